package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/testenv"
)

// These tests run the real binary as an operator would: start, use, stop with
// SIGTERM, start again.

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mlportal-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "mlportal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	cmd    *exec.Cmd
	url    string
	token  string
	stdout *bytes.Buffer
	stderr *bytes.Buffer
}

var upRE = regexp.MustCompile(`mlportal is up at (\S+)`)
var tokenRE = regexp.MustCompile(`admin token:\s+(\S+)`)

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		p.stdout.WriteString(line + "\n")
		if m := tokenRE.FindStringSubmatch(line); m != nil {
			p.token = m[1]
		}
		if m := upRE.FindStringSubmatch(line); m != nil {
			p.url = m[1]
		}
		if strings.Contains(line, "Press Ctrl-C") {
			go io.Copy(p.stdout, out) //nolint:errcheck
			return p
		}
	}
	t.Fatalf("server did not come up:\n%s\n%s", p.stdout, p.stderr)
	return nil
}

func (p *proc) call(t *testing.T, method, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// stop sends SIGTERM and expects a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no exit within the shutdown timeout after SIGTERM")
	}
	if !strings.Contains(p.stderr.String(), "stopped") {
		t.Fatalf("no graceful shutdown log:\n%s", p.stderr)
	}
}

func TestLocalModeRestartKeepsStateAndToken(t *testing.T) {
	if testing.Short() {
		t.Skip("integration tier: runs the binary")
	}
	data := t.TempDir()
	p := start(t, nil, "--data-dir", data)
	if !strings.HasPrefix(p.token, "mlp_admin_") || !strings.Contains(p.stdout.String(), "Try next") {
		t.Fatalf("banner lacks a generated token or next steps:\n%s", p.stdout)
	}
	if code := p.call(t, "GET", "/readyz", ""); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	if code := p.call(t, "POST", "/api/v1/teams", `{"name":"kept"}`); code != 201 {
		t.Fatalf("create %d", code)
	}
	// The local SCM provider's repositories are served under /git/ with the same auth.
	res, err := http.Get(p.url + "/git/kept/none.git/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("anonymous git request: %d %v", res.StatusCode, res.Header)
	}
	if code := p.call(t, "GET", "/git/kept/none.git/info/refs?service=git-upload-pack", ""); code != 404 {
		t.Fatalf("missing repository: %d", code)
	}
	p.stop(t)
	q := start(t, nil, "--data-dir", data)
	if q.token != p.token {
		t.Fatalf("admin token changed across restarts: %q → %q", p.token, q.token)
	}
	if code := q.call(t, "GET", "/api/v1/teams/kept", ""); code != 200 {
		t.Fatalf("team lost across restart: %d", code)
	}
	q.stop(t)
}

func TestAdminTokenFromEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("integration tier: runs the binary")
	}
	p := start(t, []string{"MLPORTAL_ADMIN_TOKEN=dev-root"}, "--data-dir", t.TempDir())
	if p.token != "dev-root" {
		t.Fatalf("token %q", p.token)
	}
	if code := p.call(t, "GET", "/api/v1/whoami", ""); code != 200 {
		t.Fatalf("whoami %d", code)
	}
	p.stop(t)
}

func TestPostgresMode(t *testing.T) {
	dsn := testenv.Postgres(t)
	cfg := filepath.Join(t.TempDir(), "app-config.yaml")
	if err := os.WriteFile(cfg, []byte("mlportal:\n  database:\n    driver: postgres\n    dsn: ${PG_DSN}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PG_DSN=" + dsn, "MLPORTAL_ADMIN_TOKEN=pg-root"}
	p := start(t, env, "--config", cfg)
	if !strings.Contains(p.stdout.String(), "store:        postgres") {
		t.Fatalf("banner:\n%s", p.stdout)
	}
	if code := p.call(t, "POST", "/api/v1/teams", `{"name":"on-postgres"}`); code != 201 {
		t.Fatalf("create %d", code)
	}
	p.stop(t)
	q := start(t, env, "--config", cfg)
	if code := q.call(t, "GET", "/api/v1/teams/on-postgres", ""); code != 200 {
		t.Fatalf("team lost: %d", code)
	}
	q.stop(t)
}

func TestBadConfigStopsStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("integration tier: runs the binary")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "app-config.local.yaml")
	_ = os.WriteFile(cfg, []byte("mlportal:\n  server:\n    adress: 1.2.3.4:80\n"), 0o600)
	cmd := exec.Command(bin, "serve", "--config", cfg)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2:\n%s", err, out)
	}
	for _, want := range []string{"app-config.local.yaml", "mlportal.server.adress", "addr"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("error does not mention %q:\n%s", want, out)
		}
	}
}
