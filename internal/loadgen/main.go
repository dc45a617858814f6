// Command loadgen measures mlportal's authenticated request path end to end:
// it starts the real server binary on a free 127.0.0.1 port for each backend
// (SQLite in a temporary data dir; PostgreSQL in a fresh database on the
// server named by MLPORTAL_TEST_POSTGRES_DSN, dropped afterwards), issues an
// mlportal API token, seeds teams, then runs closed-loop workers against
// GET /api/v1/teams?limit=20 (read) and POST /api/v1/teams (write, unique
// names) and prints throughput and latency percentiles per backend and
// operation.
//
//	go run ./internal/loadgen -bin ./bin/mlportal [-duration 20s] [-concurrency 32] [-mix read,write] [-markdown FILE]
//
// With -mode bootstrap it measures ML project creation instead (see
// bootstrap.go): -projects one after another, then -concurrent at once,
// each from POST /api/v1/projects until the project has succeeded.
//
//	go run ./internal/loadgen -mode bootstrap -bin ./bin/mlportal [-projects 20] [-concurrent 50] [-poll 10ms] [-kubeconfig FILE]
//
// The bootstrap mode against the test environment's real kube-apiserver is
// a test, since only a test binary can start it:
//
//	MLPORTAL_BOOTSTRAP_BENCH=1 go test -run TestBootstrapOnARealCluster -v ./internal/loadgen
//
// With -mode k8s-jobs it measures scheduling throughput on a cluster whose
// nodes kwok simulates (see k8sjobs.go): mlportal's API, scheduler and
// kubernetes executor against plain batch/v1 Jobs with ResourceQuota, on
// the same nodes, in the same run.
//
//	go run ./internal/loadgen -mode k8s-jobs -bin ./bin/mlportal -kubeconfig FILE [-nodes 1000] [-jobs 10000] [-teams 10] [-concurrency 64]
//
// or, against the test environment's control plane:
//
//	MLPORTAL_KSCALE_NODES=1000 MLPORTAL_KSCALE_JOBS=10000 go test -run TestSchedulingThroughputOnARealCluster -v -timeout 60m ./internal/loadgen
//
// With -mode mlflow it measures mlportal's MLflow REST API side by side with
// a real `mlflow server` on the same data (see mlflow.go):
//
//	go run ./internal/loadgen -mode mlflow -bin ./bin/mlportal -mlflow-venv DIR [-runs 100000] [-versions 5000] [-seed-concurrency 32] [-concurrency 8]
//
// It only ever talks to 127.0.0.1 and to the server it started, and every
// phase is bounded by -duration and -max-requests. It does not assert
// targets: docs/benchmarks.md compares the numbers with them. The load
// generator and the server share the machine, so the numbers are a lower
// bound of what the server alone could do.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	mode        string
	bin         string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	maxRequests int
	seed        int
	mix         []string
	backends    []string
	postgresDSN string
	markdown    string
	// bootstrap mode
	projects   int
	concurrent int
	poll       time.Duration
	kubeconfig string // the server's mlportal.kubernetes.kubeconfig; "" = local mode
	// k8s-jobs mode
	nodes, jobs, teams int
	paths              []string
	boundTimeout       time.Duration
	extraConfig        string // appended to the server's mlportal: section
	debugAddr          string // the server's mlportal.server.debugAddr (Go profiles)
	startWorkers       int    // k8s-jobs: the server's mlportal.jobs.startWorkers (0: its default)
	keepServerLog      bool   // keep the started server's log (it prints where) even when the run succeeds
	// mlflow mode
	runs, versions  int
	seedConcurrency int
	page            int    // max_results of the searches
	mlflowVenv      string // a virtualenv with mlflow installed (bin/mlflow)
	mlflowSeed      string // sql (runs written into MLflow's tables) or api
	mlflowAnalyze   bool   // ANALYZE MLflow's SQLite store after seeding
	targets         []string
}

func main() {
	var o options
	var mix, backends string
	var paths string
	flag.StringVar(&o.mode, "mode", "load", "load (teams API throughput), bootstrap (ML project creation latency) k8s-jobs (scheduling throughput on a cluster) or mlflow (MLflow API vs a real mlflow server)")
	flag.IntVar(&o.nodes, "nodes", 50, "k8s-jobs: kwok GPU nodes to create")
	flag.IntVar(&o.jobs, "jobs", 300, "k8s-jobs: one-GPU jobs per path")
	flag.IntVar(&o.teams, "teams", 10, "k8s-jobs: teams (mlportal) and namespaces (default path) the jobs are spread over")
	flag.StringVar(&paths, "paths", "mlportal,default", "k8s-jobs: which paths to measure, in order: mlportal, default (Jobs through kube-controller-manager and kube-scheduler), executor (mlportal's Kubernetes executor alone, without server and store), pods (bound pods created by the load generator itself: the apiserver's ceiling)")
	flag.DurationVar(&o.boundTimeout, "bound-timeout", 30*time.Minute, "k8s-jobs: how long to wait for every pod to be bound")
	flag.IntVar(&o.projects, "projects", 20, "bootstrap: projects created one after another")
	flag.IntVar(&o.concurrent, "concurrent", 50, "bootstrap: projects created at once")
	flag.DurationVar(&o.poll, "poll", 10*time.Millisecond, "bootstrap: how often a project is read until it has succeeded")
	flag.IntVar(&o.startWorkers, "start-workers", 0, "k8s-jobs: the server's mlportal.jobs.startWorkers, the job starts it runs at once (0: its default)")
	flag.BoolVar(&o.keepServerLog, "keep-server-log", false, "keep the started server's log, which says where each scheduler cycle spends its time (info level when over a second), even when the run succeeds")
	flag.StringVar(&o.debugAddr, "server-debug-addr", "", "serve the started server's Go profiles on this address (mlportal.server.debugAddr), e.g. 127.0.0.1:6060")
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "bootstrap: give the server this kubeconfig, so the namespace step applies to that cluster")
	flag.IntVar(&o.runs, "runs", 100_000, "mlflow: runs seeded into the searched experiment")
	flag.IntVar(&o.versions, "versions", 5_000, "mlflow: versions seeded into the registered model")
	flag.IntVar(&o.page, "page", 100, "mlflow: max_results of runs/search and model-versions/search")
	flag.IntVar(&o.seedConcurrency, "seed-concurrency", 32, "mlflow: requests in flight while seeding")
	flag.StringVar(&o.mlflowVenv, "mlflow-venv", cmp.Or(os.Getenv("MLPORTAL_MLFLOW_SERVER_VENV"), os.Getenv("MLPORTAL_SKELETON_VENV")),
		"mlflow: virtualenv whose bin/mlflow is started (default $MLPORTAL_MLFLOW_SERVER_VENV, else $MLPORTAL_SKELETON_VENV; make mlflow-server-pyenv)")
	flag.StringVar(&o.mlflowSeed, "mlflow-seed", "sql", "mlflow: how MLflow's runs are seeded: sql (written into its store's tables; the REST API manages 10–25 runs/s) or api")
	flag.BoolVar(&o.mlflowAnalyze, "mlflow-analyze", false, "mlflow: give MLflow's SQLite store the planner's statistics (ANALYZE) after seeding, which it never gathers itself: MLflow's best case (needs -mlflow-seed sql)")
	var targets string
	flag.StringVar(&targets, "targets", "mlportal,mlflow", "mlflow: which servers to measure")
	flag.StringVar(&o.bin, "bin", "./bin/mlportal", "the mlportal binary to start (make build)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured time per backend and operation")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each measured phase")
	flag.IntVar(&o.concurrency, "concurrency", 32, "closed-loop workers (each has one request in flight)")
	flag.IntVar(&o.maxRequests, "max-requests", 1_000_000, "upper bound of requests per phase")
	flag.IntVar(&o.seed, "seed", 200, "teams created before the measured phases")
	flag.StringVar(&mix, "mix", "read,write", "operations to run, in order: read (GET teams), write (POST teams)")
	flag.StringVar(&backends, "backends", "", "comma-separated: sqlite,postgres (default: sqlite, plus postgres when MLPORTAL_TEST_POSTGRES_DSN is set)")
	flag.StringVar(&o.markdown, "markdown", "", "also write the results as a Markdown table to this file")
	flag.Parse()
	o.postgresDSN = os.Getenv("MLPORTAL_TEST_POSTGRES_DSN")
	o.mix = split(mix)
	o.paths = split(paths)
	o.backends = split(backends)
	o.targets = split(targets)
	if len(o.backends) == 0 {
		o.backends = []string{"sqlite"}
		if o.postgresDSN != "" {
			o.backends = append(o.backends, "postgres")
		}
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.mode == "k8s-jobs" {
		if err := k8sJobsMain(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if o.mode == "bootstrap" || o.mode == "mlflow" {
		modeMain := bootstrapMain
		if o.mode == "mlflow" {
			modeMain = mlflowMain
		}
		if err := modeMain(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	results, err := run(ctx, o)
	printTable(os.Stdout, o, results)
	if err == nil && o.markdown != "" {
		err = writeMarkdown(o, results)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (o options) validate() error {
	if _, err := os.Stat(o.bin); err != nil {
		return fmt.Errorf("-bin: %w (run make build)", err)
	}
	if o.duration <= 0 || o.duration > time.Hour || o.warmup < 0 || o.warmup > time.Minute {
		return fmt.Errorf("-duration must be in (0, 1h] and -warmup in [0, 1m]")
	}
	if o.concurrency < 1 || o.concurrency > 1024 || o.maxRequests < 1 || o.seed < 0 || o.seed > 100_000 {
		return fmt.Errorf("-concurrency must be 1..1024, -max-requests ≥ 1 and -seed 0..100000")
	}
	if o.mode != "load" && o.mode != "bootstrap" && o.mode != "k8s-jobs" && o.mode != "mlflow" {
		return fmt.Errorf("-mode: unknown mode %q (want load, bootstrap, k8s-jobs, mlflow)", o.mode)
	}
	if o.mode == "k8s-jobs" {
		if o.kubeconfig == "" {
			return fmt.Errorf("-mode k8s-jobs needs -kubeconfig of a cluster whose nodes kwok manages")
		}
		if o.nodes < 1 || o.nodes > 5000 || o.jobs < 1 || o.jobs > 100_000 || o.teams < 1 || o.teams > o.jobs || o.boundTimeout <= 0 {
			return fmt.Errorf("-nodes must be 1..5000, -jobs 1..100000, -teams 1..jobs and -bound-timeout positive")
		}
		for _, p := range o.paths {
			if !slices.Contains([]string{"mlportal", "default", "executor", "pods"}, p) {
				return fmt.Errorf("-paths: unknown path %q (want mlportal, default, executor, pods)", p)
			}
		}
	}
	if o.mode == "mlflow" {
		if err := o.validateMLflow(); err != nil {
			return err
		}
	}
	if o.projects < 0 || o.projects > 10_000 || o.concurrent < 0 || o.concurrent > 1000 || o.poll < time.Millisecond || o.poll > 10*time.Second {
		return fmt.Errorf("-projects must be 0..10000, -concurrent 0..1000 and -poll in [1ms, 10s]")
	}
	for _, m := range o.mix {
		if m != "read" && m != "write" {
			return fmt.Errorf("-mix: unknown operation %q (want read, write)", m)
		}
	}
	for _, b := range o.backends {
		switch {
		case b == "postgres" && o.postgresDSN == "":
			return fmt.Errorf("-backends postgres needs MLPORTAL_TEST_POSTGRES_DSN (bash internal/testenv/postgres.sh prints it)")
		case b != "sqlite" && b != "postgres":
			return fmt.Errorf("-backends: unknown backend %q (want sqlite, postgres)", b)
		}
	}
	return nil
}

// eachBackend starts the server once per backend, logs a client in as the
// admin and lets measure run; it returns what was measured so far when one
// backend fails. workers sizes the client's connection pool.
func eachBackend[R any](ctx context.Context, o options, mode string, workers int,
	measure func(ctx context.Context, srv *server, c *client, backend string) ([]R, error)) ([]R, error) {
	var results []R
	for _, backend := range o.backends {
		fmt.Fprintf(os.Stderr, "loadgen: %s%s: starting %s\n", mode, backend, o.bin)
		rs, err := withServer(ctx, o, backend, workers, measure)
		results = append(results, rs...)
		if err != nil {
			return results, fmt.Errorf("%s: %w", backend, err)
		}
	}
	return results, nil
}

func withServer[R any](ctx context.Context, o options, backend string, workers int,
	measure func(ctx context.Context, srv *server, c *client, backend string) ([]R, error)) (_ []R, err error) {
	srv, err := startServer(ctx, o, backend)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := srv.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	c := newClient(srv.url, workers)
	if err := c.login(ctx, srv.adminToken); err != nil {
		return nil, err
	}
	return measure(ctx, srv, c, backend)
}

// run measures the request mix on every backend in turn.
func run(ctx context.Context, o options) ([]result, error) {
	return eachBackend(ctx, o, "", o.concurrency, func(ctx context.Context, srv *server, c *client, backend string) ([]result, error) {
		return runBackend(ctx, o, srv, c, backend)
	})
}

func runBackend(ctx context.Context, o options, srv *server, c *client, backend string) ([]result, error) {
	if err := c.seedTeams(ctx, o.seed); err != nil {
		return nil, err
	}
	var results []result
	for _, op := range o.mix {
		fmt.Fprintf(os.Stderr, "loadgen: %s: %s for %s (+%s warm-up) with %d workers\n", backend, op, o.duration, o.warmup, o.concurrency)
		if o.warmup > 0 {
			c.phase(ctx, op, "warm", o.warmup, o.concurrency, o.maxRequests)
		}
		srv0, gen0 := srv.cpuTime(), cpuTime("self")
		r := c.phase(ctx, op, "run", o.duration, o.concurrency, o.maxRequests)
		r.backend = backend
		if r.requests > 0 {
			r.serverCPU = (srv.cpuTime() - srv0) / time.Duration(r.requests)
			r.loadgenCPU = (cpuTime("self") - gen0) / time.Duration(r.requests)
		}
		results = append(results, r)
		if err := ctx.Err(); err != nil {
			return results, err
		}
	}
	return results, nil
}
