// Package apptest starts a real, in-process mlportal for tests: the same
// composition root as `mlportal serve` (app.New), an SQLite store in the
// test's temporary directory, the project runner started, and an httptest
// server in front. It mocks nothing; callers adjust the configuration.
//
// It is for tests only and does not start external components (see
// internal/testenv for Kubernetes and PostgreSQL).
package apptest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/config"
)

// Server is a running mlportal.
type Server struct {
	URL    string
	App    *app.App
	Config config.Config
}

// Start runs mlportal until the test ends. edit, if given, changes the
// configuration (defaults plus a temporary data dir) before it is completed
// and validated.
func Start(t testing.TB, opt app.Options, edit func(*config.Config)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Database.DSN = filepath.Join(cfg.DataDir, "mlportal.db")
	// The listener comes first so that the server knows its own URL: jobs
	// and clone URLs point at it.
	srv := httptest.NewUnstartedServer(nil)
	cfg.Server.BaseURL = "http://" + srv.Listener.Addr().String()
	if edit != nil {
		edit(&cfg)
	}
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, opt)
	if err != nil {
		srv.Listener.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx); err != nil {
		a.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	srv.Start()
	t.Cleanup(func() { srv.Close(); cancel(); a.Close() })
	return &Server{URL: srv.URL, App: a, Config: cfg}
}
