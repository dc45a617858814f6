//go:build unix

package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlportal/mlportal/internal/audit"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/httpapi"
	"github.com/mlportal/mlportal/internal/idempotency"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
	"github.com/mlportal/mlportal/internal/token"
)

// The benchmarks below drive the real server in-process: a real SQLite store
// in b.TempDir(), the real token, team, audit and idempotency services, the
// whole echo middleware stack and kin-openapi validation, through
// Server.Handler() and an httptest.ResponseRecorder (no network). Requests
// authenticate with an mlportal-issued EdDSA JWT, so every one pays signature
// verification (cached after the first) and the revocation lookup in the store.
// docs/benchmarks.md records the results; run them with `make bench`.

const benchAdminToken = "mlp_admin_benchmarkbenchmarkbenchmark"

// benchSeedTeams matches the load generator's seed.
const benchSeedTeams = 200

// benchServer is a server over a fresh store and the bearer token to call it with.
type benchServer struct {
	h      http.Handler
	bearer string // an mlportal-issued JWT with every verb
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx := context.Background()
	def := config.Default()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(b.TempDir(), "bench.db"), store.Options{
		MaxOpenConns: def.Database.MaxOpenConns, MaxIdleConns: def.Database.MaxIdleConns,
		ConnMaxLifetime: def.Database.ConnMaxLifetime.Duration})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	clk := clock.Real{}
	teams := team.NewService(st, clk)
	tokens, err := token.New(ctx, token.Config{DefaultTTL: def.Auth.Tokens.DefaultTTL.Duration, MaxTTL: def.Auth.Tokens.MaxTTL.Duration,
		BackstageIssuer: def.Auth.Backstage.Issuer, BackstageAudience: def.Auth.Backstage.Audience,
		BackstageMaxAge: def.Auth.Backstage.MaxTokenAge.Duration, AdminToken: benchAdminToken}, st, st, teams, clk)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Deps{
		Auth: tokens, Teams: teams, Tokens: tokens, Audit: audit.NewService(st, clk),
		Idempotency: idempotency.NewService(st, clk), Ready: st,
		// The production text handler at info level, so its formatting cost counts, writing nowhere.
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(), MaxBodyBytes: int64(def.Server.MaxBodyBytes),
		Version: httpapi.VersionInfo{Version: "bench", Commit: "bench", GoVersion: "bench"},
	})
	if err != nil {
		b.Fatal(err)
	}
	s := &benchServer{h: srv.Handler()}

	rec := s.do("POST", "/api/v1/tokens", benchAdminToken, `{"name":"bench","verbs":["read","write","manage","admin"]}`, nil)
	if rec.Code != http.StatusCreated {
		b.Fatalf("issue token: %d %s", rec.Code, rec.Body)
	}
	var issued struct{ Token string }
	if err := json.Unmarshal(rec.Body.Bytes(), &issued); err != nil || issued.Token == "" {
		b.Fatalf("issue token: %v %s", err, rec.Body)
	}
	s.bearer = issued.Token
	for i := range benchSeedTeams {
		if rec := s.do("POST", "/api/v1/teams", s.bearer, benchTeamBody(fmt.Sprintf("seed-%04d", i)), nil); rec.Code != http.StatusCreated {
			b.Fatalf("seed team %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	return s
}

func benchTeamBody(name string) string {
	return `{"name":"` + name + `","displayName":"Benchmark team"}`
}

// do serves one request and returns the recorded response.
func (s *benchServer) do(method, target, bearer, body string, header http.Header) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.RemoteAddr = "127.0.0.1:40000"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// expect runs one request per iteration and fails on an unexpected status.
func (s *benchServer) expect(b *testing.B, want int, req func(i int) *httptest.ResponseRecorder) {
	b.Helper()
	b.ReportAllocs()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		if rec := req(i); rec.Code != want {
			b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
		}
	}
}

// reportCPU adds cpu-ns/op: the process's user+system CPU time per
// iteration, GC and SQLite included. Unlike ns/op (wall time) it does not
// grow when other processes compete for the machine. Call the returned
// function when the loop is done.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// benchNames hands out team names unique across every sub-benchmark and run.
var benchNames atomic.Int64

func benchUniqueTeam(prefix string) string { return fmt.Sprintf("%s-%09d", prefix, benchNames.Add(1)) }

// BenchmarkRequestPath measures whole authenticated requests: middleware,
// token verification and revocation lookup, OpenAPI validation, handler and
// SQLite store.
func BenchmarkRequestPath(b *testing.B) {
	s := newBenchServer(b)
	b.Run("GET_teams", func(b *testing.B) {
		s.expect(b, http.StatusOK, func(int) *httptest.ResponseRecorder {
			return s.do("GET", "/api/v1/teams?limit=50", s.bearer, "", nil)
		})
	})
	b.Run("GET_teams_limit20", func(b *testing.B) {
		s.expect(b, http.StatusOK, func(int) *httptest.ResponseRecorder {
			return s.do("GET", "/api/v1/teams?limit=20", s.bearer, "", nil)
		})
	})
	b.Run("POST_teams", func(b *testing.B) {
		s.expect(b, http.StatusCreated, func(int) *httptest.ResponseRecorder {
			return s.do("POST", "/api/v1/teams", s.bearer, benchTeamBody(benchUniqueTeam("post")), nil)
		})
	})
	// The parallel variants show contention across GOMAXPROCS goroutines
	// (ns/op is wall time per request across all of them).
	b.Run("GET_teams_parallel", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if rec := s.do("GET", "/api/v1/teams?limit=20", s.bearer, "", nil); rec.Code != http.StatusOK {
					b.Errorf("status %d: %s", rec.Code, rec.Body)
					return
				}
			}
		})
	})
	b.Run("POST_teams_parallel", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if rec := s.do("POST", "/api/v1/teams", s.bearer, benchTeamBody(benchUniqueTeam("ppost")), nil); rec.Code != http.StatusCreated {
					b.Errorf("status %d: %s", rec.Code, rec.Body)
					return
				}
			}
		})
	})
}

// BenchmarkMiddleware measures the middleware stack against endpoints whose
// handlers cost next to nothing, so ns/op is (almost) the stack alone:
//
//   - healthz: public route: observe, recover, body limit, validation; no auth.
//   - whoami_admin_token: the full stack with a constant-time admin-token
//     check: no JWT, no store access.
//   - whoami_jwt: the full stack as an API client pays it: JWT (cache hit) and
//     the revocation lookup in SQLite.
//   - POST_teams_idempotency_key: POST /api/v1/teams with an Idempotency-Key:
//     reserve + complete the key and append the audit event around the insert.
//     Compare with BenchmarkRequestPath/POST_teams for the key's cost.
//   - POST_teams_idempotent_replay: the same key and body again: the stored
//     response is replayed (plus its audit event); the handler does not run.
func BenchmarkMiddleware(b *testing.B) {
	s := newBenchServer(b)
	b.Run("healthz", func(b *testing.B) {
		s.expect(b, http.StatusOK, func(int) *httptest.ResponseRecorder {
			return s.do("GET", "/healthz", "", "", nil)
		})
	})
	b.Run("whoami_admin_token", func(b *testing.B) {
		s.expect(b, http.StatusOK, func(int) *httptest.ResponseRecorder {
			return s.do("GET", "/api/v1/whoami", benchAdminToken, "", nil)
		})
	})
	b.Run("whoami_jwt", func(b *testing.B) {
		s.expect(b, http.StatusOK, func(int) *httptest.ResponseRecorder {
			return s.do("GET", "/api/v1/whoami", s.bearer, "", nil)
		})
	})
	b.Run("POST_teams_idempotency_key", func(b *testing.B) {
		s.expect(b, http.StatusCreated, func(int) *httptest.ResponseRecorder {
			name := benchUniqueTeam("idem")
			return s.do("POST", "/api/v1/teams", s.bearer, benchTeamBody(name), http.Header{"Idempotency-Key": {name}})
		})
	})
	b.Run("POST_teams_idempotent_replay", func(b *testing.B) {
		name := benchUniqueTeam("replay")
		h := http.Header{"Idempotency-Key": {name}}
		if rec := s.do("POST", "/api/v1/teams", s.bearer, benchTeamBody(name), h); rec.Code != http.StatusCreated {
			b.Fatalf("first request: %d %s", rec.Code, rec.Body)
		}
		s.expect(b, http.StatusCreated, func(int) *httptest.ResponseRecorder {
			rec := s.do("POST", "/api/v1/teams", s.bearer, benchTeamBody(name), h)
			if rec.Header().Get("Idempotent-Replayed") != "true" {
				b.Fatalf("not replayed: %d %s", rec.Code, rec.Body)
			}
			return rec
		})
	})
}
