package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
)

// guard bounds every wait in these tests. It is a failure guard for a hung
// test, never a measure of speed.
const guard = 3 * time.Minute

// needProcesses skips t in the unit tier: these tests start real processes.
func needProcesses(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration tier: the local executor's tests run real processes; run without -short")
	}
	for _, tool := range []string{"sh", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: install coreutils and a POSIX shell (Debian: apt-get install coreutils dash)", tool)
		}
	}
}

// needPython fails (never skips) without -short when python3, or one of
// the modules it is asked for, is missing.
func needPython(t *testing.T, modules ...string) {
	t.Helper()
	check := "import sys"
	if len(modules) > 0 {
		check = "import " + strings.Join(modules, ", ")
	}
	if out, err := exec.Command("python3", "-c", check).CombinedOutput(); err != nil {
		t.Fatalf("python3 with %v is needed (%v: %s): install it (Debian: apt-get install python3 python3-venv)", modules, err, out)
	}
}

// logRecorder keeps the executor's log records for assertions.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// newExecutor starts an executor over cfg (Dir defaults to a temporary
// directory). When the test ends it kills whatever jobs still run and closes
// the executor.
func newExecutor(t *testing.T, cfg Config) (*Executor, *logRecorder) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.StopGrace == 0 {
		cfg.StopGrace = time.Minute
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	rec := &logRecorder{}
	e, err := New(cfg, slog.New(rec))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { killAll(e) })
	return e, rec
}

// killAll kills the process group of every job that has not ended, whether
// or not e still follows it, and closes e.
func killAll(e *Executor) {
	e.mu.Lock()
	for _, j := range e.jobs {
		if !j.st.Phase.Final() {
			_, _ = signalGroup(j.st.PGID, j.st.LeaderStart, j.st.Spec.JobID, j.st.Attempt, syscall.SIGKILL)
			if j.cancelPrep != nil {
				j.cancelPrep()
			}
		}
	}
	e.mu.Unlock()
	_ = e.Close()
}

// spec is a one-replica job running sh -c script.
func spec(id, script string) executor.Spec {
	return executor.Spec{JobID: id, Command: []string{"sh", "-c", script}}
}

func start(t *testing.T, e *Executor, s executor.Spec) {
	t.Helper()
	if err := e.Start(context.Background(), s); err != nil {
		t.Fatalf("Start(%s): %v", s.JobID, err)
	}
}

// waitFinal polls the job's status until it has ended.
func waitFinal(t *testing.T, e *Executor, id string) executor.Status {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		st, err := e.Status(context.Background(), id)
		if err != nil {
			t.Fatalf("Status(%s): %v", id, err)
		}
		if st.Phase.Final() {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after %s (%s); logs:\n%s", id, st.Phase, guard, st.Message, logsOf(t, e, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitPhase polls until the job reaches phase.
func waitPhase(t *testing.T, e *Executor, id string, phase executor.Phase) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		st, err := e.Status(context.Background(), id)
		if err != nil {
			t.Fatalf("Status(%s): %v", id, err)
		}
		if st.Phase == phase {
			return
		}
		if st.Phase.Final() || time.Now().After(deadline) {
			t.Fatalf("job %s is %s (%s), want %s; logs:\n%s", id, st.Phase, st.Message, phase, logsOf(t, e, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog polls the job's log until it contains s.
func waitLog(t *testing.T, e *Executor, id, s string) string {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		l := logsOf(t, e, id)
		if strings.Contains(l, s) {
			return l
		}
		st, _ := e.Status(context.Background(), id)
		if st.Phase.Final() || time.Now().After(deadline) {
			t.Fatalf("job %s (%s: %s) never logged %q; logs:\n%s", id, st.Phase, st.Message, s, l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func logsOf(t *testing.T, e *Executor, id string) string {
	t.Helper()
	var b bytes.Buffer
	if err := e.Logs(context.Background(), id, false, &b); err != nil {
		t.Fatalf("Logs(%s): %v", id, err)
	}
	return b.String()
}

// waitFile polls until path exists.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !fileExists(path) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPID reads a pid a job wrote to path.
func readPID(t *testing.T, path string) int {
	t.Helper()
	waitFile(t, path)
	var pid int
	deadline := time.Now().Add(guard)
	for {
		b, _ := os.ReadFile(path)
		if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds no pid: %q", path, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dead reports whether `kill -0 pid` fails, or the process is a zombie
// waiting for a parent to reap it (this machine's init does not reap
// orphans): either way it runs no more.
func dead(pid int) bool {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return true
	}
	st, err := readProcStat(pid)
	return err != nil || st.State == 'Z' || st.State == 'X'
}

// fakeNvidiaSMI writes an nvidia-smi stand-in into a new directory and
// returns the directory (to put on PATH) and the script. It prints n
// A100-80GB devices and refuses any query but the executor's.
func fakeNvidiaSMI(t *testing.T, n int) (dir, script string) {
	t.Helper()
	dir = t.TempDir()
	var csv strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "%d, GPU-%08d-0000-0000-0000-000000000000, NVIDIA A100-SXM4-80GB, 81920\n", i, i)
	}
	script = filepath.Join(dir, "nvidia-smi")
	body := "#!/bin/sh\n# nvidia-smi stand-in for the local executor's tests\n" +
		"if [ \"$*\" != \"" + strings.Join(nvidiaSMIArgs, " ") + "\" ]; then echo \"unexpected query: $*\" >&2; exit 2; fi\n" +
		"cat <<'CSV'\n" + csv.String() + "CSV\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, script
}
