package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
)

// The server restarts (a new Executor over the same directory) while jobs
// run: one ends while no executor watches, one ends after, one is stopped by
// its process group.
func TestRestartMidJob(t *testing.T) {
	needProcesses(t)
	_, smi := fakeNvidiaSMI(t, 4)
	dir, out := t.TempDir(), t.TempDir()
	e1, _ := newExecutor(t, Config{Dir: dir, FakeGPUs: smi})
	wait := func(id, file string, code int) executor.Spec {
		s := spec(id, `echo started; while [ ! -f "$OUT/`+file+`" ]; do sleep 0.05; done; echo finishing; exit `+strconv.Itoa(code))
		s.Env = map[string]string{"OUT": out}
		return s
	}
	start(t, e1, wait("ends-while-down", "go1", 0))
	start(t, e1, wait("ends-after", "go2", 3))
	sleeper := spec("sleeper", `echo $$ >"$OUT/sleeper.pid"; trap "" TERM; sleep 1000`)
	sleeper.Env, sleeper.GPUs, sleeper.Timeout = map[string]string{"OUT": out}, 2, time.Hour
	start(t, e1, sleeper)
	for _, id := range []string{"ends-while-down", "ends-after"} {
		waitLog(t, e1, id, "started")
	}
	waitPhase(t, e1, "sleeper", executor.PhaseRunning)
	sleeperPID := readPID(t, filepath.Join(out, "sleeper.pid"))
	if _, err := New(Config{Dir: dir, FakeGPUs: smi}, nil); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("a second executor over a directory in use: %v, want ErrConflict", err)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}

	// Down: the first job ends; its wrapper records the exit status.
	if err := os.WriteFile(filepath.Join(out, "go1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFile(t, e1.paths.exitFile("ends-while-down", 1, 0))

	e2, _ := newExecutor(t, Config{Dir: dir, FakeGPUs: smi, StopGrace: time.Second})
	st := waitFinal(t, e2, "ends-while-down")
	if st.Phase != executor.PhaseSucceeded || st.ExitCode != 0 {
		t.Errorf("job that ended while down: %s %d %q, want Succeeded 0", st.Phase, st.ExitCode, st.Message)
	}
	if l := logsOf(t, e2, "ends-while-down"); l != "started\nfinishing\n" {
		t.Errorf("its logs = %q", l)
	}
	if st, _ := e2.Status(context.Background(), "ends-after"); st.Phase != executor.PhaseRunning {
		t.Errorf("job still running: %s, want Running", st.Phase)
	}
	// The new executor knows which GPUs the sleeper holds.
	big := spec("big", "true")
	big.GPUs = 3
	if err := e2.Start(context.Background(), big); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Start of a 3-GPU job while the sleeper holds 2 of 4 = %v, want ErrConflict", err)
	}

	if err := os.WriteFile(filepath.Join(out, "go2"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st = waitFinal(t, e2, "ends-after")
	if st.Phase != executor.PhaseFailed || st.ExitCode != 3 {
		t.Errorf("job that ended after the restart: %s %d %q, want Failed 3", st.Phase, st.ExitCode, st.Message)
	}

	if err := e2.Stop(context.Background(), "sleeper", executor.StopCancel, time.Second); err != nil {
		t.Fatal(err)
	}
	st = waitFinal(t, e2, "sleeper")
	if st.Phase != executor.PhaseCancelled || !strings.Contains(st.Message, "SIGKILL") {
		t.Errorf("sleeper: %s %q, want Cancelled with SIGKILL", st.Phase, st.Message)
	}
	if !dead(sleeperPID) {
		t.Errorf("the sleeper (pid %d) still runs after Stop by the new executor", sleeperPID)
	}
	start(t, e2, big)
	if st := waitFinal(t, e2, "big"); st.Phase != executor.PhaseSucceeded {
		t.Errorf("big after the sleeper freed its GPUs: %s %q", st.Phase, st.Message)
	}
}

// A job whose preparation was interrupted (the state says Pending, nothing
// was launched) is prepared again by the next executor.
func TestRestartDuringPreparation(t *testing.T) {
	needProcesses(t)
	dir := t.TempDir()
	e1, _ := newExecutor(t, Config{Dir: dir})
	st := &jobState{Version: stateVersion, Spec: spec("prep", "echo prepared again"), Attempt: 1,
		Phase: executor.PhasePending, Node: e1.node.Name, CheckpointDir: e1.paths.checkpoint("prep"),
		OwnCheckpoint: true, Replicas: []replicaState{{Index: 0}}}
	st.Spec.Attempt, st.Spec.Replicas = 1, 1
	if err := saveState(e1.paths.state("prep"), st); err != nil {
		t.Fatal(err)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	e2, _ := newExecutor(t, Config{Dir: dir})
	if got := waitFinal(t, e2, "prep"); got.Phase != executor.PhaseSucceeded {
		t.Fatalf("%s %q", got.Phase, got.Message)
	}
	if l := logsOf(t, e2, "prep"); l != "prepared again\n" {
		t.Errorf("logs = %q", l)
	}
}

// A stop under way when the server goes down is finished by the next one:
// the grace runs out and the group gets SIGKILL.
func TestRestartDuringStop(t *testing.T) {
	needProcesses(t)
	dir := t.TempDir()
	e1, _ := newExecutor(t, Config{Dir: dir})
	start(t, e1, spec("deaf", `trap "" TERM; echo ready; while :; do sleep 1; done`))
	waitLog(t, e1, "deaf", "ready")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller gives up at once; the stop is recorded and goes on
	if err := e1.Stop(ctx, "deaf", executor.StopPreempt, time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with a cancelled context = %v, want context.Canceled", err)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e1.Stop(context.Background(), "deaf", executor.StopCancel, 0); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Stop after Close = %v, want ErrUnavailable", err)
	}

	e2, _ := newExecutor(t, Config{Dir: dir})
	st := waitFinal(t, e2, "deaf")
	if st.Phase != executor.PhasePreempted || !strings.Contains(st.Message, "SIGKILL") {
		t.Errorf("status = %s %q, want Preempted and killed with SIGKILL", st.Phase, st.Message)
	}
}
