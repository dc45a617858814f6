package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
)

// Token is the stand-in's default valid token; its user is Login.
const (
	Token = "ghp_mlportalstandin0000000000000000000000"
	Login = "mlportal-bot"
)

// Request is one request the stand-in received, in arrival order.
type Request struct {
	Method    string
	Path      string // without the base path, escaped as sent
	Operation string // operationId in GitHub's description; "" when it has none
	Body      []byte
	Status    int // the stand-in's answer
}

// String is "METHOD /path", convenient for asserting on sequences.
func (r Request) String() string { return r.Method + " " + r.Path }

// Option configures a Server.
type Option func(*Server)

// WithBasePath serves the API under a prefix, as GitHub Enterprise Server does
// under "/api/v3".
func WithBasePath(p string) Option {
	return func(s *Server) { s.base = "/" + strings.Trim(p, "/") }
}

// WithClock dates commits, repositories and rate-limit resets.
func WithClock(c clock.Clock) Option { return func(s *Server) { s.clock = c } }

// WithDefaultBranch names the default branch of new repositories, as an
// organisation's setting does (default "main").
func WithDefaultBranch(name string) Option { return func(s *Server) { s.defaultBranch = name } }

// WithOrg adds an organisation (repository owner).
func WithOrg(login string) Option { return func(s *Server) { s.addOrg(login) } }

// Server is an in-memory GitHub behind httptest. Its methods are safe for
// concurrent use.
type Server struct {
	t     testing.TB
	desc  *Description
	srv   *httptest.Server
	base  string
	clock clock.Clock

	defaultBranch string

	mu       sync.Mutex
	tokens   map[string]string // token → login
	orgs     map[string]*org   // lower-case login
	repos    map[string]*repo  // lower-case "owner/name"
	faults   []*Fault
	requests []Request
	nextID   int64
}

// New starts a stand-in checked against the description that LoadDescription
// finds (so it skips under -short); it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return NewWithDescription(t, LoadDescription(t), opts...)
}

// NewWithDescription starts a stand-in checked against d.
func NewWithDescription(t testing.TB, d *Description, opts ...Option) *Server {
	s := &Server{
		t: t, desc: d, clock: clock.NewFake(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)),
		tokens: map[string]string{Token: Login}, orgs: map[string]*org{}, repos: map[string]*repo{}, nextID: 1000,
		defaultBranch: "main",
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API's base URL with a trailing slash, as go-github wants it.
func (s *Server) URL() string { return s.srv.URL + s.base + "/" }

// Client is an HTTP client for the stand-in.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// AddToken makes token valid for login.
func (s *Server) AddToken(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = login
}

// RevokeToken makes token invalid: requests with it get 401 Bad credentials.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ClearRequests forgets the requests received so far.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

type handler func(c *call) (int, any)

// call is one request being served.
type call struct {
	r      *http.Request
	params map[string]string
	body   []byte
	login  string
	op     *operation
}

// decode reads the JSON body into v; the description check already ran.
func (c *call) decode(v any) error { return json.Unmarshal(c.body, v) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	escaped := r.URL.EscapedPath()
	rec := Request{Method: r.Method, Path: strings.TrimPrefix(escaped, s.base), Body: body}
	if s.base != "" && !strings.HasPrefix(escaped, s.base+"/") {
		s.finish(w, r, rec, nil, nil, http.StatusNotFound, errBody("Not Found"))
		return
	}
	o, params, err := s.desc.checkRequest(r, rec.Path, body)
	if o != nil {
		rec.Operation = o.id
	}
	if err != nil {
		s.finish(w, r, rec, nil, nil, http.StatusBadRequest, errBody("githubtest: "+err.Error()))
		return
	}
	s.mu.Lock()
	login, ok := s.tokens[bearer(r)]
	f := s.fault(o.id)
	s.mu.Unlock()
	switch {
	case !ok:
		s.finish(w, r, rec, nil, nil, http.StatusUnauthorized, errBody("Bad credentials"))
		return
	case f != nil && f.Drop:
		if h := s.handlers()[o.id]; f.After && h != nil {
			rec.Status, _ = h(&call{r: r, params: params, body: body, login: login, op: o})
		}
		s.record(rec)
		drop(w)
		return
	case f != nil:
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		s.finish(w, r, rec, nil, nil, f.Status, errBody(msg))
		return
	}
	h := s.handlers()[o.id]
	if h == nil {
		s.finish(w, r, rec, nil, nil, http.StatusNotImplemented,
			errBody("githubtest: the stand-in does not implement "+o.id+"; add it to handlers()"))
		return
	}
	status, resp := h(&call{r: r, params: params, body: body, login: login, op: o})
	s.finish(w, r, rec, o, params, status, resp)
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
}

// finish writes the answer, records the request and, for the stand-in's own
// successful answers, checks them against the description.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, rec Request, o *operation, params map[string]string, status int, resp any) {
	rec.Status = status
	s.record(rec)
	var raw []byte
	if resp != nil {
		var err error
		if raw, err = json.Marshal(resp); err != nil {
			s.t.Errorf("githubtest: encode answer to %s: %v", rec, err)
		}
	}
	h := w.Header()
	s.mu.Lock()
	s.nextID++
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("STANDIN:%d", s.nextID))
	s.mu.Unlock()
	if h.Get("X-RateLimit-Remaining") == "" {
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "4999")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(s.clock.Now().Add(time.Hour).Unix(), 10))
	}
	if raw != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	if o != nil && status < 300 {
		if err := s.desc.checkResponse(r, o, params, status, h, raw); err != nil {
			s.t.Errorf("githubtest: %v", err)
		}
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewReader(raw))
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "token "} {
		if strings.HasPrefix(a, p) {
			return strings.TrimPrefix(a, p)
		}
	}
	return ""
}

// errBody is GitHub's error shape.
func errBody(msg string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"}
}

// errFields is GitHub's validation error shape (422).
func errFields(msg, resource, field, code, detail string) map[string]any {
	b := errBody(msg)
	b["errors"] = []map[string]any{{"resource": resource, "field": field, "code": code, "message": detail}}
	return b
}

// respond overlays fields on the description's example answer, so every
// field GitHub documents is present in GitHub's shape.
func (c *call) respond(s *Server, status int, fields map[string]any) (int, any) {
	out := s.desc.example(c.op, status)
	merge(out, fields)
	return status, out
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if _, ok := v.(omit); ok {
			delete(dst, k)
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			if d, ok := dst[k].(map[string]any); ok {
				merge(d, sub)
				continue
			}
		}
		dst[k] = v
	}
}
