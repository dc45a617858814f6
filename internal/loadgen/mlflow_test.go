package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/testenv"
)

// TestMLflowModeGivesTheSameAnswers runs the mlflow mode at a small size
// against the real bin/mlportal and a real `mlflow server`, each on SQLite
// and PostgreSQL, with pages of 7 so every search pages, and MLflow's runs
// written straight into its store as the full-size run does. It asserts
// only correctness — each server returns the runs and the order the seed
// data implies, and every version — never a time.
func TestMLflowModeGivesTheSameAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("integration tier: starts bin/mlportal and a real mlflow server")
	}
	venv := os.Getenv("MLPORTAL_MLFLOW_SERVER_VENV")
	if venv == "" {
		t.Fatal("MLPORTAL_MLFLOW_SERVER_VENV is not set: run `make mlflow-server-pyenv` and " +
			"export MLPORTAL_MLFLOW_SERVER_VENV=$(bash internal/loadgen/testdata/pyenv-mlflow-server.sh --print-venv)")
	}
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "mlportal"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: run `make build`", err)
	}
	o := options{mode: "mlflow", bin: bin, backends: []string{"sqlite", "postgres"}, postgresDSN: testenv.Postgres(t),
		duration: time.Second, concurrency: 2, maxRequests: 10, poll: 10 * time.Millisecond,
		runs: 400, versions: 30, page: 7, seedConcurrency: 8, mlflowVenv: venv, mlflowSeed: "sql", targets: []string{"mlportal", "mlflow"}}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if err := mlflowMain(t.Context(), o); err != nil {
		t.Fatal(err)
	}
}
