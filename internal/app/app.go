// Package app is mlportal's composition root: the one place that knows the
// concrete types. It opens the store, builds the domain services and the HTTP
// server from configuration, serves until the context is cancelled and then
// shuts down gracefully.
//
// It holds no logic of its own beyond wiring and the local-mode admin token.
package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mlportal/mlportal/internal/audit"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/gitserver"
	"github.com/mlportal/mlportal/internal/httpapi"
	"github.com/mlportal/mlportal/internal/idempotency"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/mlflowapi"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
	"github.com/mlportal/mlportal/internal/token"
	"github.com/mlportal/mlportal/internal/tracking"
	"github.com/mlportal/mlportal/internal/version"
	mlproject "github.com/mlportal/mlportal/scaffolder-templates/ml-project"
)

// Options are the inputs that do not come from app-config.yaml.
type Options struct {
	// AdminToken is MLPORTAL_ADMIN_TOKEN ("" = read or generate one in local mode).
	AdminToken string
	Log        *slog.Logger
	// Banner receives the start-up message for people (URL, token, next steps).
	Banner io.Writer
	Clock  clock.Clock
	// Ready, if set, receives the listening URL once the server accepts connections.
	Ready func(url string)
}

// App is a wired mlportal server, ready to serve.
type App struct {
	cfg         config.Config
	opt         Options
	store       *store.Store
	sched       *store.Store // the scheduler's own pool of store (see wire); may be store
	handler     http.Handler
	adminToken  string
	adminSource string
	runner      *project.Runner
	jobs        *jobsParts
	quota       *quotaParts        // quota requests, costs and budgets (quota.go)
	models      *modelsParts       // the registry view, datasets and the change feed (models.go)
	stop        context.CancelFunc // stops the runner, the scheduler and background checks; set by Start
	done        chan struct{}      // closed when the scheduler's controller has stopped
}

// New opens the store and wires the services and the HTTP handler.
// Close releases what it opened.
func New(ctx context.Context, cfg config.Config, opt Options) (*App, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN, store.Options{MaxOpenConns: cfg.Database.MaxOpenConns,
		MaxIdleConns: cfg.Database.MaxIdleConns, ConnMaxLifetime: cfg.Database.ConnMaxLifetime.Duration})
	if err != nil {
		return nil, fmt.Errorf("open the %s store: %w", cfg.Database.Driver, err)
	}
	a := &App{cfg: cfg, opt: opt, store: st}
	if err := a.wire(ctx); err != nil {
		if a.jobs != nil {
			_ = a.jobs.close()
		}
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) wire(ctx context.Context) error {
	cfg, opt, st := a.cfg, a.opt, a.store
	var err error
	a.adminToken, a.adminSource, err = resolveAdminToken(cfg, opt.AdminToken)
	if err != nil {
		return err
	}
	teams := team.NewService(st, opt.Clock)
	keys, err := backstageKeys(cfg.Auth.Backstage.PublicKeys)
	if err != nil {
		return err
	}
	tcfg := token.Config{
		Admins: cfg.Auth.Admins, DefaultTTL: cfg.Auth.Tokens.DefaultTTL.Duration, MaxTTL: cfg.Auth.Tokens.MaxTTL.Duration,
		BackstageKeys: keys, BackstageIssuer: cfg.Auth.Backstage.Issuer, BackstageAudience: cfg.Auth.Backstage.Audience,
		BackstageMaxAge: cfg.Auth.Backstage.MaxTokenAge.Duration, AdminToken: a.adminToken,
	}
	tokens, err := token.New(ctx, tcfg, st, st, teams, opt.Clock)
	if err != nil {
		return err
	}
	templates, err := lifecycle.Load(cfg.Lifecycle.TemplateDirs)
	if err != nil {
		return fmt.Errorf("lifecycle templates (mlportal.lifecycle.templateDirs): %w", err)
	}
	repos, err := gitserver.New(filepath.Join(cfg.DataDir, "git"), "", opt.Log, gitserver.WithClock(opt.Clock))
	if err != nil {
		// The API works without git; repositories of the local SCM provider do not.
		opt.Log.Warn("git repositories disabled: install git to serve /git/", "err", err)
	}
	nss, err := newNamespaces(cfg, st, opt.Log)
	if err != nil {
		return err
	}
	rcfg := project.RunnerConfig{Repo: st, Teams: teams, Templates: templates, Namespaces: nss, Skeleton: mlproject.Files(),
		BaseURL: cfg.Server.BaseURL, Clock: opt.Clock, Log: opt.Log, SCMs: map[string]project.SCM{},
		CITokens: ciTokens{tokens: tokens, ttl: cfg.Auth.Tokens.MaxTTL.Duration}, Owner: runnerOwner()}
	if repos != nil {
		rcfg.SCMs[project.SCMLocal] = localSCM{repos: repos, baseURL: cfg.Server.BaseURL}
	}
	if cfg.SCM.GitHub.Enabled() {
		gh, err := newGitHubSCM(cfg.SCM.GitHub, opt.Clock, opt.Log)
		if err != nil {
			return err
		}
		rcfg.SCMs[project.SCMGitHub] = gh
	}
	a.runner = project.NewRunner(rcfg)
	projects := project.NewService(st, teams, templates, a.runner, opt.Clock, nil, projectOptions(cfg)...)
	artifacts, err := newArtifacts(ctx, cfg)
	if err != nil {
		return err
	}
	trRepos, err := newTrackingRepos(ctx, cfg.MLflow, st, opt.Log)
	if err != nil {
		return err
	}
	trk := tracking.NewService(trRepos.tracking, teams, opt.Clock)
	mdl := newModels(st, artifacts, templates, teams, opt.Clock, opt.Log)
	a.models = mdl
	mlflow := mlflowapi.New(trk, modelregistry.NewService(trRepos.registry, trRepos.sources, teams, opt.Clock,
		modelregistry.WithDatasetGate(mdl.datasets)), artifacts, opt.Log)
	a.quota = newQuotaParts(cfg, st, nss, opt.Clock, opt.Log)
	// The scheduler's cycle records thousands of admissions, runs and
	// tokens at once; on PostgreSQL it does so over a pool of its own, so
	// that it does not queue behind the API's requests (clients submitting
	// jobs) for the shared one. Its runs and tokens go through services
	// over that pool.
	if a.sched, err = st.OwnPool(schedulerConns); err != nil {
		return err
	}
	schedTokens, schedTrk := tokenIssuer(tokens), trk
	if a.sched != st {
		if schedTokens, err = token.New(ctx, tcfg, a.sched, a.sched, teams, opt.Clock); err != nil {
			return err
		}
		if trRepos.tracking == tracking.Repository(st) {
			schedTrk = tracking.NewService(a.sched, teams, opt.Clock)
		}
	}
	a.jobs, err = newJobs(cfg, st, a.sched, templates, schedTokens, schedTrk, repos, artifacts, a.quota, opt.Clock, opt.Log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := httpapi.New(httpapi.Deps{
		Auth: tokens, Teams: teams, Tokens: tokens, Audit: audit.NewService(st, opt.Clock), Lifecycle: templates,
		Projects: projects, Jobs: a.jobs.service, Models: mdl.service, Changes: mdl.feed, Datasets: mdl.datasets,
		Idempotency: idempotency.NewService(st, opt.Clock), Ready: st, Log: opt.Log, Registry: reg,
		Quota: a.quota.quota, Costs: a.quota.costs,
		MaxBodyBytes: int64(cfg.Server.MaxBodyBytes), Mounts: []httpapi.Mount{mlflow.Mount()},
		Version: httpapi.VersionInfo{Version: version.Version, Commit: version.Commit, GoVersion: version.GoVersion()},
	})
	if err != nil {
		return err
	}
	a.handler = srv.Handler()
	if repos == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/git/", repos.Handler(tokens, teams))
	mux.Handle("/", srv.Handler())
	a.handler = mux
	return nil
}

// Start runs project sagas in the background until ctx is cancelled or
// Close, resuming those a previous process left unfinished. Serve calls it.
func (a *App) Start(ctx context.Context) error {
	ctx, a.stop = context.WithCancel(ctx)
	if err := a.runner.Start(ctx); err != nil {
		return fmt.Errorf("resume project sagas: %w", err)
	}
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		a.jobs.controller.Run(ctx)
	}()
	a.quota.start(ctx)
	a.models.start(ctx)
	return nil
}

// Handler is the HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// AdminToken is the admin secret in force ("" if none).
func (a *App) AdminToken() string { return a.adminToken }

// Close stops the project runner, waits for its sagas to stop and closes
// the store.
func (a *App) Close() error {
	if a.stop != nil {
		a.stop()
	}
	a.runner.Wait()
	if a.done != nil {
		<-a.done
	}
	a.quota.wait()
	a.models.wait()
	var err error
	if a.jobs != nil {
		err = a.jobs.close() // jobs keep running; a restart follows them again
	}
	if a.sched != nil && a.sched != a.store {
		err = errors.Join(err, a.sched.Close())
	}
	return errors.Join(err, a.store.Close())
}

// schedulerConns is the size of the scheduler's own PostgreSQL pool: its
// cycle is one goroutine, and a start that fails records the job.
const schedulerConns = 4

// Run serves mlportal until ctx is cancelled.
func Run(ctx context.Context, cfg config.Config, opt Options) error {
	a, err := New(ctx, cfg, opt)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx)
}

// Serve listens on the configured address and serves until ctx is
// cancelled, then drains requests for up to the shutdown timeout.
func (a *App) Serve(ctx context.Context) error {
	cfg, opt, log := a.cfg, a.opt, a.opt.Log
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (mlportal.server.addr or --addr): %w", cfg.Server.Addr, err)
	}
	hs := &http.Server{
		Handler:           a.handler,
		ReadTimeout:       cfg.Server.ReadTimeout.Duration,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.Duration,
		WriteTimeout:      cfg.Server.WriteTimeout.Duration,
		IdleTimeout:       cfg.Server.IdleTimeout.Duration,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := listenURL(cfg.Server.BaseURL, ln.Addr())
	log.Info("mlportal serving", "addr", ln.Addr().String(), "url", url, "store", cfg.Database.Driver, "version", version.Version)
	if opt.Banner != nil {
		printBanner(opt.Banner, url, cfg, a.adminToken, a.adminSource)
	}
	if opt.Ready != nil {
		opt.Ready(url)
	}
	if cfg.Server.DebugAddr != "" {
		if err := serveProfiles(ctx, cfg.Server.DebugAddr, log); err != nil {
			ln.Close()
			return err
		}
	}
	go purgeIdempotencyKeys(ctx, a.store, opt.Clock, log)
	if err := a.Start(ctx); err != nil {
		ln.Close()
		return err
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.Server.ShutdownTimeout.Duration)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownTimeout.Duration)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func backstageKeys(pems []string) ([]ed25519.PublicKey, error) {
	out := make([]ed25519.PublicKey, 0, len(pems))
	for i, p := range pems {
		k, err := config.ParsePublicKey(p)
		if err != nil {
			return nil, fmt.Errorf("mlportal.auth.backstage.publicKeys[%d]: %w", i, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// resolveAdminToken picks the admin token: MLPORTAL_ADMIN_TOKEN when set;
// otherwise, in local mode (SQLite), the one stored under the data dir,
// generated on first start. With PostgreSQL and no variable there is none.
func resolveAdminToken(cfg config.Config, fromEnv string) (tok, source string, err error) {
	if fromEnv != "" {
		return fromEnv, "MLPORTAL_ADMIN_TOKEN", nil
	}
	if cfg.Database.Driver != config.DriverSQLite {
		return "", "", nil
	}
	path := filepath.Join(cfg.DataDir, "admin-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), path, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	tok = token.NewAdminToken()
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("write admin token: %w", err)
	}
	return tok, path + " (generated)", nil
}

func listenURL(base string, addr net.Addr) string {
	if base != "" && !strings.HasSuffix(base, ":0") {
		return strings.TrimSuffix(base, "/")
	}
	return "http://" + addr.String()
}

func printBanner(w io.Writer, url string, cfg config.Config, adminToken, source string) {
	fmt.Fprintf(w, "\nmlportal is up at %s\n", url)
	fmt.Fprintf(w, "  store:        %s", cfg.Database.Driver)
	if cfg.Database.Driver == config.DriverSQLite {
		fmt.Fprintf(w, " (%s)", cfg.Database.DSN)
	}
	fmt.Fprintln(w)
	if adminToken != "" {
		fmt.Fprintf(w, "  admin token:  %s\n                (from %s)\n", adminToken, source)
	} else {
		fmt.Fprintln(w, "  admin token:  none (set MLPORTAL_ADMIN_TOKEN to enable one)")
	}
	fmt.Fprintf(w, "\nTry next, in another terminal:\n")
	fmt.Fprintf(w, "  ./bin/mlportal login --server %s --token %s\n", url, orPlaceholder(adminToken))
	fmt.Fprintf(w, "  ./bin/mlportal whoami\n")
	fmt.Fprintf(w, "  ./bin/mlportal teams create ml-research --display-name \"ML Research\" --group group:default/ml-research\n")
	fmt.Fprintf(w, "  ./bin/mlportal token create --name laptop --team ml-research --verbs read,write\n")
	fmt.Fprintf(w, "  ./bin/mlportal project create churn-model --team ml-research --wait\n")
	fmt.Fprintf(w, "  ./bin/mlportal train --project churn-model --team ml-research --gpus 0 --wait   # CPU-only here; drop --gpus 0 on a GPU machine\n")
	fmt.Fprintf(w, "  curl -s %s/api/v1/openapi.yaml | head\n\nPress Ctrl-C to stop.\n\n", url)
}

func orPlaceholder(s string) string {
	if s == "" {
		return "<token>"
	}
	return s
}

// purgeIdempotencyKeys deletes expired idempotency records every hour.
func purgeIdempotencyKeys(ctx context.Context, st *store.Store, clk clock.Clock, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := st.PurgeIdempotencyKeys(ctx, clk.Now().Add(-idempotency.Retention))
			if err != nil {
				log.Warn("purge idempotency keys", "err", err)
				continue
			}
			log.Debug("purged idempotency keys", "count", n)
		}
	}
}
