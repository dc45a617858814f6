package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
)

// readyStamp marks a complete virtualenv; a directory without it is a
// half-made one (pip interrupted) and is made again.
const readyStamp = ".mlportal-ready"

// pyenvs prepares and caches the virtualenvs jobs run in, one per
// (requirements.txt content, interpreter), as MLflow Projects do. A venv is
// made in place under an exclusive flock on its lock file (venvs are not
// relocatable, so no build-and-rename) and becomes visible when the stamp
// is written; jobs that need the same venv meanwhile wait for the lock.
type pyenvs struct {
	python string
	dir    string // <cache>/venvs
	log    *slog.Logger
	env    []string // the server's environment: pip's configuration lives there
	poll   time.Duration

	mu  sync.Mutex
	tag string // "CPython 3.11.7 x86_64", once known
}

// interpreter names the interpreter by implementation, version and machine.
func (p *pyenvs) interpreter(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tag != "" {
		return p.tag, nil
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, p.python, "-c",
		"import platform; print(platform.python_implementation(), platform.python_version(), platform.machine())")
	cmd.Stdout, cmd.Stderr, cmd.Env = &out, &errb, p.env
	if err := cmd.Run(); err != nil {
		return "", fault.New(fault.ErrUnavailable,
			"the project has a requirements.txt but %s cannot run (%v: %s); install Python 3 with its venv module (Debian: apt-get install python3-venv) or set the local executor's python",
			p.python, err, strings.TrimSpace(lastLines(errb.String(), 3)))
	}
	p.tag = strings.TrimSpace(out.String())
	return p.tag, nil
}

// key is the cache key of requirements for the interpreter tag.
func venvKey(tag string, requirements []byte) string {
	h := sha256.New()
	h.Write([]byte(tag))
	h.Write([]byte{0})
	h.Write(requirements)
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// ensure returns the venv for the requirements file at reqPath, making it if
// no job has yet. jobID only labels the log lines.
func (p *pyenvs) ensure(ctx context.Context, jobID, reqPath string) (string, error) {
	reqs, err := os.ReadFile(reqPath)
	if err != nil {
		return "", fmt.Errorf("read requirements.txt: %w", err)
	}
	tag, err := p.interpreter(ctx)
	if err != nil {
		return "", err
	}
	key := venvKey(tag, reqs)
	venv := filepath.Join(p.dir, key)
	log := p.log.With("job", jobID, "venv", key, "python", tag)
	if ready(venv) {
		log.Debug("python environment cached")
		return venv, nil
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return "", fmt.Errorf("create the venv cache: %w", err)
	}
	unlock, err := p.lock(ctx, filepath.Join(p.dir, key+".lock"), log)
	if err != nil {
		return "", err
	}
	defer unlock()
	if ready(venv) { // made by the job we waited for
		log.Info("python environment ready (prepared by another job)")
		return venv, nil
	}
	start := time.Now()
	log.Info("creating python environment", "requirements", strings.Count(string(reqs), "\n"))
	if err := os.RemoveAll(venv); err != nil {
		return "", fmt.Errorf("remove a half-made venv: %w", err)
	}
	if err := p.build(ctx, venv, reqPath, log); err != nil {
		_ = os.RemoveAll(venv)
		return "", err
	}
	if err := os.WriteFile(filepath.Join(venv, readyStamp), []byte(tag+"\n"), 0o644); err != nil {
		_ = os.RemoveAll(venv)
		return "", fmt.Errorf("mark the venv ready: %w", err)
	}
	log.Info("python environment ready", "took", time.Since(start).Round(time.Millisecond))
	return venv, nil
}

func ready(venv string) bool {
	_, err := os.Stat(filepath.Join(venv, readyStamp))
	return err == nil
}

// build runs python -m venv and pip install -r, logging pip's progress; the
// full output goes to <venv>.log.
func (p *pyenvs) build(ctx context.Context, venv, reqPath string, log *slog.Logger) error {
	logFile, err := os.Create(venv + ".log")
	if err != nil {
		return fmt.Errorf("create the venv log: %w", err)
	}
	defer logFile.Close()
	tail := &tailBuffer{max: 64 << 10}
	progress := &lineLogger{log: log}
	out := io.MultiWriter(logFile, tail, progress)
	run := func(step string, args ...string) error {
		fmt.Fprintf(logFile, "$ %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = filepath.Dir(reqPath)
		cmd.Env = append(append([]string{}, p.env...), "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1")
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fault.New(fault.ErrInvalid, "preparing the project's Python environment failed: %s exited with %v; fix requirements.txt (pin versions that exist for Python %s) and start the job again. Last lines:\n%s",
				step, err, pythonVersion(p.tag), lastLines(tail.String(), 12))
		}
		return nil
	}
	if err := run("python -m venv", p.python, "-m", "venv", venv); err != nil {
		return err
	}
	progress.reset()
	return run("pip install -r requirements.txt", filepath.Join(venv, "bin", "python"), "-m", "pip", "install", "--progress-bar", "off", "-r", reqPath)
}

func pythonVersion(tag string) string {
	if f := strings.Fields(tag); len(f) >= 2 {
		return f[1]
	}
	return tag
}

// lock takes an exclusive flock on path, waiting (and saying so) while
// another job holds it. Locks are per open file, so two jobs of one process
// exclude each other too.
func (p *pyenvs) lock(ctx context.Context, path string, log *slog.Logger) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the venv lock: %w", err)
	}
	waiting := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock the venv: %w", err)
		}
		if !waiting {
			log.Info("waiting for another job preparing the same python environment")
			waiting = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(p.poll):
		}
	}
}

// lineLogger logs pip's notable lines (what it collects and installs) as
// progress.
type lineLogger struct {
	log *slog.Logger
	buf []byte
}

func (l *lineLogger) reset() { l.buf = l.buf[:0] }

func (l *lineLogger) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
		if strings.HasPrefix(line, "Collecting ") || strings.HasPrefix(line, "Successfully installed ") {
			l.log.Info("pip: " + line)
		}
	}
	if len(l.buf) > 4096 {
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			out = append(out, lines[i])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return strings.Join(out, "\n")
}
