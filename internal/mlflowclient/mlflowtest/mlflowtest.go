// Package mlflowtest starts a real `mlflow server` (SQLite backend) for
// integration tests, from the Python venv of the ML project skeleton
// (MLPORTAL_SKELETON_VENV, made by `make skeleton-pyenv`). Under
// `go test -short` it skips; without the venv it fails with the command that
// makes it. It is test support only: no production code imports it.
package mlflowtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// EnvVenv names the venv holding the mlflow package.
const EnvVenv = "MLPORTAL_SKELETON_VENV"

const fix = "run `make skeleton-pyenv` and export MLPORTAL_SKELETON_VENV=$(bash scaffolder-templates/ml-project/pyenv.sh --print-venv)"

// Server is a running mlflow tracking server.
type Server struct {
	// URL is its base URL (no /api/2.0).
	URL string
	// Dir holds its SQLite database and artifacts.
	Dir string
}

// Start runs `mlflow server` on a free loopback port until the test ends
// and returns once /health answers.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration tier: starts a real mlflow server")
	}
	venv := os.Getenv(EnvVenv)
	if venv == "" {
		t.Fatalf("mlflowtest: %s is not set: %s", EnvVenv, fix)
	}
	bin := filepath.Join(venv, "bin", "mlflow")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("mlflowtest: %v: %s", err, fix)
	}
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "server",
		"--backend-store-uri", "sqlite:///"+filepath.Join(dir, "mlflow.db"),
		"--default-artifact-root", filepath.Join(dir, "artifacts"),
		"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--workers", "1")
	cmd.Env = append(os.Environ(), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// mlflow server forks its web workers: stop the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("mlflowtest: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), Dir: dir}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := http.Get(s.URL + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("mlflowtest: mlflow server exited before it was healthy:\n%s", tail(logs.String()))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("mlflowtest: mlflow server not healthy at %s after 2m:\n%s", s.URL, tail(logs.String()))
		}
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mlflowtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
