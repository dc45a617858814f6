package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// server is a running mlportal child process.
type server struct {
	cmd        *exec.Cmd
	url        string // http://127.0.0.1:PORT
	adminToken string
	dir        string
	logPath    string
	exited     chan error
	cleanup    func() error // drops the PostgreSQL database, if any
	keepLog    bool         // stop leaves the log (asked for, or the run failed: it has the cause)
}

// startServer writes a config for backend, starts the binary on
// 127.0.0.1:0 and waits until /readyz answers.
func startServer(ctx context.Context, o options, backend string) (_ *server, err error) {
	dir, err := os.MkdirTemp("", "mlportal-loadgen-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, adminToken: "mlp_admin_" + randomHex(16), logPath: filepath.Join(dir, "server.log"),
		exited: make(chan error, 1), cleanup: func() error { return nil }, keepLog: o.keepServerLog}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.stop())
		}
	}()
	db := "  database:\n    driver: sqlite\n"
	if backend == "postgres" {
		dsn, drop, err := createDatabase(ctx, o.postgresDSN)
		if err != nil {
			return s, err
		}
		s.cleanup = drop
		db = fmt.Sprintf("  database:\n    driver: postgres\n    dsn: %q\n", dsn)
	}
	cfg := filepath.Join(dir, "app-config.yaml")
	if o.kubeconfig != "" {
		db += fmt.Sprintf("  kubernetes:\n    kubeconfig: %q\n", o.kubeconfig)
	}
	if o.debugAddr != "" {
		db += fmt.Sprintf("  server:\n    debugAddr: %q\n", o.debugAddr)
	}
	if err := os.WriteFile(cfg, []byte("mlportal:\n"+db+o.extraConfig+"  log:\n    level: info\n"), 0o600); err != nil {
		return s, err
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return s, err
	}
	defer logf.Close()
	s.cmd = exec.Command(o.bin, "serve", "--config", cfg, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	s.cmd.Env = append(os.Environ(), "MLPORTAL_ADMIN_TOKEN="+s.adminToken)
	s.cmd.Stderr = logf
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return s, err
	}
	if err := s.cmd.Start(); err != nil {
		return s, fmt.Errorf("start %s: %w", o.bin, err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	urls := make(chan string, 1)
	go scanBanner(stdout, urls)
	select {
	case u := <-urls:
		s.url = u
	case err := <-s.exited:
		s.exited <- err
		return s, fmt.Errorf("the server exited before serving (%v); its log: %s", err, s.logPath)
	case <-time.After(30 * time.Second):
		return s, fmt.Errorf("the server printed no URL within 30s; its log: %s", s.logPath)
	}
	if pu, err := url.Parse(s.url); err != nil || pu.Hostname() != "127.0.0.1" {
		return s, fmt.Errorf("the server announced %q, not a 127.0.0.1 URL", s.url)
	}
	return s, s.waitReady(ctx)
}

// scanBanner sends the URL from the start-up banner ("mlportal is up at
// URL"), then drains the rest of stdout so the child never blocks on it.
func scanBanner(stdout interface{ Read([]byte) (int, error) }, urls chan<- string) {
	sc := bufio.NewScanner(stdout)
	sent := false
	for sc.Scan() {
		if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "mlportal is up at "); ok && !sent {
			urls <- u
			sent = true
		}
	}
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s/readyz did not answer 200 within 30s; server log: %s", s.url, s.logPath)
}

// stop sends SIGTERM, waits for a graceful exit (SIGKILL after 30s), drops
// the PostgreSQL database and removes the temporary directory.
func (s *server) stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case werr := <-s.exited:
			if werr != nil {
				err = fmt.Errorf("the server did not exit cleanly: %v (log: %s)", werr, s.logPath)
			}
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			err = fmt.Errorf("the server ignored SIGTERM for 30s and was killed (log: %s)", s.logPath)
		}
	}
	err = errors.Join(err, s.cleanup())
	if s.keepLog {
		fmt.Fprintf(os.Stderr, "loadgen: the server's log is kept in %s\n", s.logPath)
		return err
	}
	if err == nil {
		err = os.RemoveAll(s.dir)
	}
	return err
}

// createDatabase creates a fresh database on the server of adminDSN and
// returns its DSN and a function that drops it.
func createDatabase(ctx context.Context, adminDSN string) (string, func() error, error) {
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("MLPORTAL_TEST_POSTGRES_DSN must be a postgres:// URL")
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return "", nil, fmt.Errorf("MLPORTAL_TEST_POSTGRES_DSN points at %q; loadgen only uses a loopback server", h)
	}
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return "", nil, err
	}
	name := "mlportal_loadgen_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func() error {
		defer admin.Close()
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cpuTime returns the user+system CPU time of process pid ("self" for this
// one) from /proc; 0 where /proc is not available.
func cpuTime(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the line, in clock ticks (USER_HZ, 100 on Linux).
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b)[i+1:])
	if i < 0 || len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func (s *server) cpuTime() time.Duration { return cpuTime(strconv.Itoa(s.cmd.Process.Pid)) }
