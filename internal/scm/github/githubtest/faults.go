package githubtest

import (
	"net/http"
	"strconv"
	"time"
)

// Fault makes the stand-in fail matching requests instead of serving them.
type Fault struct {
	Operation string      // operationId to fail; "" fails every operation
	Status    int         // answer with this status, GitHub's error body and Message
	Message   string      // GitHub's "message"; a default per status when ""
	Header    http.Header // extra response headers (rate limits, Retry-After)
	Drop      bool        // close the connection without an answer, as a crash or network cut does
	After     bool        // with Drop: serve the request first, so the change is made but never reported
	Times     int         // fail this many matching requests; 0 = all of them
}

// Inject adds a fault; faults are tried in the order they were added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// RateLimit answers every request with GitHub's primary rate-limit refusal
// (403, X-RateLimit-Remaining: 0) until Reset is called.
func (s *Server) RateLimit(reset time.Time) {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", "5000")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	s.Inject(Fault{Status: http.StatusForbidden, Message: "API rate limit exceeded for user ID 1000.", Header: h})
}

// Reset removes every fault.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// fault returns the first live fault for operation id, consuming one use.
// The caller holds s.mu.
func (s *Server) fault(id string) *Fault {
	for _, f := range s.faults {
		if f.Operation != "" && f.Operation != id {
			continue
		}
		if f.Times < 0 {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				f.Times = -1 // used up
			}
		}
		return f
	}
	return nil
}
