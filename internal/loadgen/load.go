package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// client calls one mlportal server with an mlportal-issued API token.
type client struct {
	base   string
	http   *http.Client
	bearer string
	names  atomic.Int64 // makes POSTed team names unique per server
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends one request and drains the response; it reports the status.
func (c *client) do(ctx context.Context, method, path, bearer string, body []byte, out any) (int, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	if bearer != "" { // MLflow's own server runs without authentication
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	if resp.StatusCode >= 400 {
		// The error body says why (a 5xx carries a request id for the server log).
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// login issues an API token with every verb as the admin and keeps it, so
// the load exercises EdDSA verification and the revocation lookup rather
// than the admin-token shortcut.
func (c *client) login(ctx context.Context, adminToken string) error {
	var out struct{ Token string }
	st, err := c.do(ctx, http.MethodPost, "/api/v1/tokens", adminToken,
		[]byte(`{"name":"loadgen","verbs":["read","write","manage","admin"]}`), &out)
	if err != nil || st != http.StatusCreated || out.Token == "" {
		return fmt.Errorf("issue an API token: status %d: %v", st, err)
	}
	c.bearer = out.Token
	return nil
}

func (c *client) seedTeams(ctx context.Context, n int) error {
	for i := range n {
		if st, err := c.createTeam(ctx, fmt.Sprintf("seed-%05d", i)); err != nil || st != http.StatusCreated {
			return fmt.Errorf("seed team %d: status %d: %v", i, st, err)
		}
	}
	return nil
}

func (c *client) createTeam(ctx context.Context, name string) (int, error) {
	body := []byte(`{"name":"` + name + `","displayName":"Load test team"}`)
	return c.do(ctx, http.MethodPost, "/api/v1/teams", c.bearer, body, nil)
}

// request runs one operation and reports whether it succeeded.
func (c *client) request(ctx context.Context, op string) bool {
	switch op {
	case "read":
		st, err := c.do(ctx, http.MethodGet, "/api/v1/teams?limit=20", c.bearer, nil, nil)
		return err == nil && st == http.StatusOK
	default:
		st, err := c.createTeam(ctx, fmt.Sprintf("load-%09d", c.names.Add(1)))
		return err == nil && st == http.StatusCreated
	}
}

// result is one measured phase.
type result struct {
	backend, operation string
	requests, errors   int
	elapsed            time.Duration
	p50, p90, p95, p99 time.Duration
	max                time.Duration
	// CPU time (user+system) per request of the server and of the load
	// generator: what the machine spent, however busy it was otherwise.
	serverCPU, loadgenCPU time.Duration
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// phase runs workers closed-loop (each sends its next request when the last
// one is answered) until d has passed, maxRequests were sent or ctx ends.
// Latencies are of successful requests; errors are counted apart.
func (c *client) phase(ctx context.Context, op, label string, d time.Duration, workers, maxRequests int) result {
	r := closedLoop(ctx, d, workers, maxRequests, func(ctx context.Context, _ int) bool { return c.request(ctx, op) })
	r.operation = op + " " + opPath(op)
	if label != "run" {
		return result{operation: r.operation, elapsed: r.elapsed}
	}
	return r
}

// closedLoop runs workers, each calling req (with its worker index) again
// as soon as the last call returned, until d has passed, maxRequests calls
// were made or ctx ends, and summarizes the calls that reported success.
// A call in flight at the deadline completes and counts (an operation
// slower than d is still measured once per worker); elapsed includes it.
func closedLoop(ctx context.Context, d time.Duration, workers, maxRequests int, req func(ctx context.Context, worker int) bool) result {
	deadline := time.Now().Add(d)
	var budget atomic.Int64
	budget.Store(int64(maxRequests))
	lat := make([][]time.Duration, workers)
	errs := make([]int, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && budget.Add(-1) >= 0 {
				t0 := time.Now()
				ok := req(ctx, w)
				el := time.Since(t0)
				switch {
				case ok:
					lat[w] = append(lat[w], el)
				case ctx.Err() == nil: // a request cut short by an interrupt is not an error
					errs[w]++
				}
			}
		})
	}
	wg.Wait()
	r := result{elapsed: time.Since(start)}
	all := slices.Concat(lat...)
	slices.Sort(all)
	r.requests = len(all)
	for _, e := range errs {
		r.errors += e
	}
	r.requests += r.errors
	if n := len(all); n > 0 {
		r.p50, r.p90, r.p95, r.p99, r.max = all[(n-1)*50/100], all[(n-1)*90/100], all[(n-1)*95/100], all[(n-1)*99/100], all[n-1]
	}
	return r
}

func opPath(op string) string {
	if op == "read" {
		return "GET /api/v1/teams?limit=20"
	}
	return "POST /api/v1/teams"
}
