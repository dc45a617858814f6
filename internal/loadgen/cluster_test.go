package main

import (
	"os"
	"path/filepath"
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
