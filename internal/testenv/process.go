package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// component is one child process with its log file.
type component struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startComponent runs bin with args, logging stdout and stderr to
// logDir/name.log. The process gets its own process group and dies with the
// test binary (see procattr_*.go).
func startComponent(name, bin string, args []string, logDir string) (*component, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, &componentError{name: name, msg: fmt.Sprintf("binary %s is missing", bin), hint: fixHint}
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	fmt.Fprintf(logFile, "# %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, &componentError{name: name, msg: "start: " + err.Error(), logPath: logPath, logTail: tail(logPath, 30), hint: fixHint}
	}
	c := &component{name: name, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		logFile.Close()
		close(c.exited)
	}()
	return c, nil
}

// stop asks the process group to terminate and kills it after a grace period.
func (c *component) stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	pgid := c.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.exited
	}
}

// waitReady polls probe until it succeeds, the process exits or timeout passes.
func (c *component) waitReady(timeout time.Duration, probe func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		last = probe(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-c.exited:
			return c.fail(fmt.Sprintf("exited before becoming ready (%v)", c.waitErr))
		case <-ctx.Done():
			return c.fail(fmt.Sprintf("not ready after %s: %v", timeout, last))
		case <-tick.C:
		}
	}
}

func (c *component) fail(msg string) error {
	return &componentError{name: c.name, msg: msg, logPath: c.logPath, logTail: tail(c.logPath, 30),
		hint: "read the log above; if the binary is stale or broken, rebuild it with `make testenv`"}
}

// componentError reports a component that could not start, with the tail of
// its log and how to fix it.
type componentError struct {
	name, msg, logPath, hint string
	logTail                  string // captured when the error is made
}

func (e *componentError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "testenv: %s: %s", e.name, e.msg)
	if e.logPath != "" {
		fmt.Fprintf(&b, "\n--- last lines of %s ---\n%s", e.logPath, e.logTail)
	}
	if e.hint != "" {
		fmt.Fprintf(&b, "\nfix: %s", e.hint)
	}
	return b.String()
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freePorts returns n distinct free loopback TCP ports. Another process may
// take a port before the component binds it; start failures report that.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("allocate port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// httpProbe returns a probe that GETs url and wants a 200 whose body
// contains want. token, if set, is sent as a bearer token. TLS is not
// verified: the probe checks liveness, not identity.
func httpProbe(url, token, want string) func(ctx context.Context) error {
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe
	}}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		if !bytes.Contains(body, []byte(want)) {
			return errors.New("GET " + url + ": unexpected body " + strings.TrimSpace(string(body)))
		}
		return nil
	}
}
