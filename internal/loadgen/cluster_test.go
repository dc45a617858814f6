package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestBootstrapOnARealCluster runs the bootstrap mode with the namespace
// step applying to the test environment's real kube-apiserver: only a test
// binary can start that control plane. It is a measurement, run on request
// (MLPORTAL_BOOTSTRAP_BENCH=1, after make build); it fails on a failed,
// missing or duplicated project, never on a time.
func TestBootstrapOnARealCluster(t *testing.T) {
	if os.Getenv("MLPORTAL_BOOTSTRAP_BENCH") == "" {
		t.Skip("a benchmark: set MLPORTAL_BOOTSTRAP_BENCH=1 (and make build) to run it")
	}
	cluster := testenv.Kubernetes(t)
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "mlportal"))
	if b := os.Getenv("MLPORTAL_KSCALE_BIN"); b != "" { // another build, e.g. to compare two
		bin = b
	}
	if err != nil {
		t.Fatal(err)
	}
	o := options{mode: "bootstrap", bin: bin, backends: []string{"sqlite"}, duration: time.Second, concurrency: 1, maxRequests: 1,
		projects: 20, concurrent: 50,
		poll: 10 * time.Millisecond, kubeconfig: cluster.Kubeconfig(), markdown: os.Getenv("MLPORTAL_BOOTSTRAP_MARKDOWN")}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if err := bootstrapMain(t.Context(), o); err != nil {
		t.Fatal(err)
	}
}

// TestSchedulingThroughputOnARealCluster runs the k8s-jobs mode against the
// test environment's control plane: by default a small run (50 nodes, 300
// jobs) that checks correctness only — every job bound exactly once, no
// namespace or team quota exceeded at any sample — never a time. The
// issue's scale is a measurement run on request:
// MLPORTAL_KSCALE_NODES=1000 MLPORTAL_KSCALE_JOBS=10000 (and
// MLPORTAL_KSCALE_CONCURRENCY, MLPORTAL_KSCALE_MARKDOWN=FILE). It needs
// bin/mlportal (make build).
func TestSchedulingThroughputOnARealCluster(t *testing.T) {
	cluster := testenv.Kubernetes(t)
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "mlportal"))
	if b := os.Getenv("MLPORTAL_KSCALE_BIN"); b != "" { // another build, e.g. to compare two
		bin = b
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: run make build first (make test-integration does)", err)
	}
	num := func(env string, def int) int {
		if v := os.Getenv(env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", env, v, err)
			}
			return n
		}
		return def
	}
	backend := "sqlite"
	if os.Getenv("MLPORTAL_TEST_POSTGRES_DSN") != "" {
		backend = "postgres" // the production store
	}
	paths := []string{"mlportal", "default", "executor", "pods"}
	if v := os.Getenv("MLPORTAL_KSCALE_PATHS"); v != "" {
		paths = strings.Split(v, ",") // of mlportal, default, executor, pods
	}
	o := options{mode: "k8s-jobs", bin: bin, backends: []string{backend}, postgresDSN: os.Getenv("MLPORTAL_TEST_POSTGRES_DSN"), duration: time.Second, concurrency: num("MLPORTAL_KSCALE_CONCURRENCY", 32),
		maxRequests: 1, poll: 10 * time.Millisecond, kubeconfig: cluster.Kubeconfig(),
		nodes: num("MLPORTAL_KSCALE_NODES", 50), jobs: num("MLPORTAL_KSCALE_JOBS", 300), teams: num("MLPORTAL_KSCALE_TEAMS", 10),
		paths: paths, boundTimeout: 45 * time.Minute, markdown: os.Getenv("MLPORTAL_KSCALE_MARKDOWN"),
		debugAddr: os.Getenv("MLPORTAL_KSCALE_DEBUG_ADDR"), startWorkers: num("MLPORTAL_KSCALE_START_WORKERS", 0),
		keepServerLog: os.Getenv("MLPORTAL_KSCALE_KEEP_SERVER_LOG") != ""}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	p := newPlan(o)
	nodes, err := addKwokNodes(t.Context(), cluster.Clientset(), p)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := runK8sJobs(t.Context(), o, cluster.Clientset(), p, nodes)
	var out strings.Builder
	printK8s(&out, o, p, rs)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if o.markdown != "" {
		if err := writeK8sMarkdown(o, p, rs); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkK8s(p, rs); err != nil {
		t.Error(err)
	}
}
