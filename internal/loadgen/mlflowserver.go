package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// mlflowServer is a running `mlflow server` (uvicorn and its worker) in a
// process group of its own.
type mlflowServer struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:PORT
	dir     string
	logPath string
	exited  chan error
	cleanup func() error // drops the PostgreSQL database, if any

	storeDSN      string // the backend store: a SQLite file or a postgres:// DSN
	storePostgres bool
}

// mlflowCanUsePostgres reports whether the venv's Python has psycopg2, the
// driver MLflow's SQLAlchemy store needs for postgresql:// store URIs.
func mlflowCanUsePostgres(ctx context.Context, venv string) bool {
	return exec.CommandContext(ctx, filepath.Join(venv, "bin", "python"), "-c", "import psycopg2").Run() == nil
}

// startMLflow starts `mlflow server` from venv with a SQLite file (backend
// "sqlite") or a fresh PostgreSQL database (backend "postgres") as its
// backend store, one worker, on a free loopback port, and waits until
// /health answers. Its background job execution (huey consumers, which
// the tracking and registry API never use) is turned off.
func startMLflow(ctx context.Context, o options, backend string, conns int) (_ *mlflowServer, err error) {
	dir, err := os.MkdirTemp("", "mlflow-loadgen-")
	if err != nil {
		return nil, err
	}
	s := &mlflowServer{dir: dir, logPath: filepath.Join(dir, "mlflow.log"), exited: make(chan error, 1), cleanup: func() error { return nil }}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.stop())
		}
	}()
	s.storeDSN = filepath.Join(dir, "mlflow.db")
	store := "sqlite:///" + s.storeDSN
	if backend == "postgres" {
		dsn, drop, err := createDatabase(ctx, o.postgresDSN)
		if err != nil {
			return s, err
		}
		s.cleanup = drop
		s.storeDSN, s.storePostgres = dsn, true
		if store, err = sqlalchemyURL(dsn); err != nil {
			return s, err
		}
	}
	port, err := freePort()
	if err != nil {
		return s, err
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return s, err
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join(o.mlflowVenv, "bin", "mlflow"), "server", "--backend-store-uri", store,
		"--default-artifact-root", filepath.Join(dir, "artifacts"), "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--workers", "1")
	// SQLAlchemy's default pool (5 + 10 overflow, 30s wait) fails requests
	// under the seeding concurrency; give it a connection per client one.
	s.cmd.Env = append(os.Environ(), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false",
		"MLFLOW_SQLALCHEMYSTORE_POOL_SIZE="+strconv.Itoa(conns), "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW="+strconv.Itoa(conns))
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return s, fmt.Errorf("start %s: %w (make skeleton-pyenv creates the venv)", s.cmd.Path, err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	s.url = "http://127.0.0.1:" + strconv.Itoa(port)
	return s, s.waitHealthy(ctx)
}

// sqlalchemyURL turns a postgres:// DSN into the postgresql+psycopg2:// URL
// SQLAlchemy (and so MLflow) accepts; SQLAlchemy 2.1 maps a bare
// postgresql:// to psycopg 3, which MLflow does not install.
func sqlalchemyURL(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("MLPORTAL_TEST_POSTGRES_DSN: %w", err)
	}
	u.Scheme = "postgresql+psycopg2"
	return u.String(), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy polls /health: MLflow creates its schema and imports a
// great deal before it serves, which takes a minute on a busy machine.
func (s *mlflowServer) waitHealthy(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/health", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("mlflow server exited before serving (%v); its log: %s", err, s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s/health did not answer 200 within 5m; mlflow's log: %s", s.url, s.logPath)
}

// stop sends SIGTERM to the server's process group, kills it after 30s,
// drops the PostgreSQL database and removes the temporary directory.
func (s *mlflowServer) stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			err = fmt.Errorf("mlflow server ignored SIGTERM for 30s and was killed (log: %s)", s.logPath)
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // whatever of the group is left
	}
	err = errors.Join(err, s.cleanup())
	if err == nil {
		err = os.RemoveAll(s.dir)
	}
	return err
}

// cpuTime sums the CPU time of the processes still in the server's group.
func (s *mlflowServer) cpuTime() time.Duration {
	pgid := strconv.Itoa(s.cmd.Process.Pid)
	es, _ := os.ReadDir("/proc")
	var sum time.Duration
	for _, e := range es {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if f := strings.Fields(string(b)[i+1:]); i >= 0 && len(f) > 2 && f[2] == pgid {
			sum += cpuTime(e.Name())
		}
	}
	return sum
}
