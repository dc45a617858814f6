package local

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
)

func TestSuccessWithLogsWorkspaceAndEnvironment(t *testing.T) {
	needProcesses(t)
	t.Setenv("MLPORTAL_TEST_LEAK", "server-secret")
	t.Setenv("MLPORTAL_TEST_PASS_ME", "allowed")
	e, _ := newExecutor(t, Config{PassEnv: []string{"MLPORTAL_TEST_PASS*"}})
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "data.txt"), []byte("project data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ws, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../data.txt", filepath.Join(ws, "src", "link.txt")); err != nil {
		t.Fatal(err)
	}
	s := spec("ok", `echo "to stdout"; echo "to stderr" >&2; cat src/link.txt; echo changed >data.txt; echo new >new.txt
test -d "$MLPORTAL_CHECKPOINT_DIR" && echo "checkpoint dir exists"
env | sort`)
	s.Workspace = ws
	s.Env = map[string]string{"FOO": "bar"}
	start(t, e, s)
	start(t, e, s) // the same attempt again: a no-op

	st := waitFinal(t, e, "ok")
	if st.Phase != executor.PhaseSucceeded || st.ExitCode != 0 {
		t.Fatalf("status = %s %d (%s), want Succeeded 0", st.Phase, st.ExitCode, st.Message)
	}
	if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Errorf("started %v, finished %v", st.StartedAt, st.FinishedAt)
	}
	out := logsOf(t, e, "ok")
	for _, want := range []string{"to stdout\n", "to stderr\n", "project data\n", "checkpoint dir exists\n",
		"FOO=bar\n", "MLPORTAL_JOB_ID=ok\n", "MLPORTAL_ATTEMPT=1\n", "MLPORTAL_TEST_PASS_ME=allowed\n",
		"CUDA_VISIBLE_DEVICES=\n", "PYTHONUNBUFFERED=1\n", "HOME=" + os.Getenv("HOME") + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{"MLPORTAL_TEST_LEAK", "server-secret", "RANK=", "MASTER_PORT="} {
		if strings.Contains(out, leak) {
			t.Errorf("the job saw %q:\n%s", leak, out)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(ws, "data.txt")); string(b) != "project data\n" {
		t.Errorf("the job changed the project's data.txt to %q", b)
	}
	if fileExists(filepath.Join(ws, "new.txt")) {
		t.Error("the job wrote into the project's workspace")
	}

	var follow bytes.Buffer
	if err := e.Logs(context.Background(), "ok", true, &follow); err != nil {
		t.Fatal(err)
	}
	if follow.String() != out {
		t.Errorf("Logs(follow) of an ended job = %q, want %q", follow.String(), out)
	}
}

func TestFailureExitCode(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{})
	start(t, e, spec("fails", "echo about to fail; exit 3"))
	start(t, e, executor.Spec{JobID: "missing", Command: []string{"mlportal-no-such-program"}})

	st := waitFinal(t, e, "fails")
	if st.Phase != executor.PhaseFailed || st.ExitCode != 3 || st.Message != "exit code 3" {
		t.Errorf("status = %s %d %q, want Failed 3 \"exit code 3\"", st.Phase, st.ExitCode, st.Message)
	}
	st = waitFinal(t, e, "missing")
	if st.Phase != executor.PhaseFailed || st.ExitCode != 127 || !strings.Contains(st.Message, "command not found") {
		t.Errorf("status = %s %d %q, want Failed 127 command not found", st.Phase, st.ExitCode, st.Message)
	}
	if l := logsOf(t, e, "missing"); !strings.Contains(l, "mlportal-no-such-program") {
		t.Errorf("the shell's complaint is not in the logs: %q", l)
	}
}

// The timeout stops the whole process tree: the job's shell, its child and a
// grandchild that ignores SIGTERM (and so must be killed with SIGKILL).
func TestTimeoutKillsProcessTree(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{StopGrace: 2 * time.Second})
	out := t.TempDir()
	s := spec("slow", `(trap "" TERM; exec sleep 1000) & echo $! >"$OUT/grandchild.pid"
sleep 1000 & echo $! >"$OUT/child.pid"
wait`)
	s.Env = map[string]string{"OUT": out}
	s.Timeout = 2 * time.Second
	start(t, e, s)
	grandchild := readPID(t, filepath.Join(out, "grandchild.pid"))
	child := readPID(t, filepath.Join(out, "child.pid"))

	st := waitFinal(t, e, "slow")
	if st.Phase != executor.PhaseTimedOut || !strings.Contains(st.Message, "2s timeout") {
		t.Fatalf("status = %s %q, want TimedOut after its 2s timeout", st.Phase, st.Message)
	}
	for name, pid := range map[string]int{"grandchild ignoring SIGTERM": grandchild, "child": child} {
		if !dead(pid) {
			t.Errorf("the %s (pid %d) still runs after the timeout", name, pid)
		}
	}
	e.mu.Lock()
	pgid := e.jobs["slow"].st.PGID
	e.mu.Unlock()
	if m := groupMembers(pgid); len(m) != 0 {
		t.Errorf("process group %d still has %v", pgid, m)
	}
}

// Cancel: SIGTERM, then SIGKILL to a job that ignores SIGTERM once the
// grace has passed; Stop and Cleanup are idempotent.
func TestCancelKillsAfterGrace(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{})
	start(t, e, spec("stubborn", `trap "" TERM; echo ready; while :; do sleep 1; done`))
	waitLog(t, e, "stubborn", "ready")

	if err := e.Cleanup(context.Background(), "stubborn"); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Cleanup of a running job = %v, want ErrConflict", err)
	}
	if err := e.Stop(context.Background(), "stubborn", executor.StopCancel, time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := e.Status(context.Background(), "stubborn")
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != executor.PhaseCancelled || !strings.Contains(st.Message, "SIGKILL") {
		t.Errorf("status = %s %q, want Cancelled and killed with SIGKILL", st.Phase, st.Message)
	}
	if err := e.Stop(context.Background(), "stubborn", executor.StopPreempt, 0); err != nil {
		t.Errorf("Stop of an ended job = %v, want nil", err)
	}
	if err := e.Stop(context.Background(), "never-started", executor.StopCancel, 0); err != nil {
		t.Errorf("Stop of an unknown job = %v, want nil", err)
	}
	if err := e.Stop(context.Background(), "stubborn", "pause", 0); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Stop with an unknown reason = %v, want ErrInvalid", err)
	}
	for range 2 {
		if err := e.Cleanup(context.Background(), "stubborn"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Status(context.Background(), "stubborn"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Status after Cleanup = %v, want ErrNotFound", err)
	}
	if fileExists(e.paths.job("stubborn")) || fileExists(e.paths.checkpoint("stubborn")) {
		t.Error("Cleanup left the job's directories")
	}
}

// A job that handles SIGTERM ends within the grace: no SIGKILL.
func TestCancelGraceful(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{})
	start(t, e, spec("polite", `trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.1; done`))
	waitLog(t, e, "polite", "ready")
	if err := e.Stop(context.Background(), "polite", executor.StopCancel, time.Minute); err != nil {
		t.Fatal(err)
	}
	st := waitFinal(t, e, "polite")
	if st.Phase != executor.PhaseCancelled || st.Message != "cancelled" {
		t.Errorf("status = %s %q, want Cancelled without SIGKILL", st.Phase, st.Message)
	}
	if l := logsOf(t, e, "polite"); !strings.Contains(l, "bye") {
		t.Errorf("the job's TERM handler did not run: %q", l)
	}
}

// trainPy counts steps; on SIGTERM it writes the step to a checkpoint and
// exits 0; on start it resumes from the checkpoint. With EXTRA_STEPS it
// stops by itself that many steps after where it started.
const trainPy = `import json, os, signal, sys, time

path = os.path.join(os.environ["MLPORTAL_CHECKPOINT_DIR"], "ckpt.json")
step = 0
if os.path.exists(path):
    with open(path) as f:
        step = json.load(f)["step"]
    print(f"resumed from step {step}")
extra = int(os.environ.get("EXTRA_STEPS", "-1"))
stop_at = step + extra if extra >= 0 else None
stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
while True:
    if stopping:
        with open(path + ".tmp", "w") as f:
            json.dump({"step": step}, f)
        os.replace(path + ".tmp", path)
        print(f"checkpoint at step {step}")
        sys.exit(0)
    if stop_at is not None and step >= stop_at:
        print(f"done at step {step}")
        sys.exit(0)
    step += 1
    print(f"step {step}")
    time.sleep(0.05)
`

func TestPreemptCheckpointResume(t *testing.T) {
	needProcesses(t)
	needPython(t)
	e, _ := newExecutor(t, Config{})
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "train.py"), []byte(trainPy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := executor.Spec{JobID: "train", Attempt: 1, Command: []string{"python3", "train.py"}, Workspace: ws}
	start(t, e, s)
	waitLog(t, e, "train", "step 5\n")
	if err := e.Stop(context.Background(), "train", executor.StopPreempt, guard); err != nil {
		t.Fatal(err)
	}
	st := waitFinal(t, e, "train")
	if st.Phase != executor.PhasePreempted || st.ExitCode != 0 {
		t.Fatalf("status = %s %d %q, want Preempted with exit code 0 (checkpointed)", st.Phase, st.ExitCode, st.Message)
	}
	b, err := os.ReadFile(filepath.Join(e.paths.checkpoint("train"), "ckpt.json"))
	if err != nil {
		t.Fatalf("no checkpoint: %v; logs:\n%s", err, logsOf(t, e, "train"))
	}
	var saved struct{ Step int }
	if err := jsonUnmarshal(b, &saved); err != nil || saved.Step < 5 {
		t.Fatalf("checkpoint %q: want a step ≥ 5 (%v)", b, err)
	}
	if l := logsOf(t, e, "train"); !strings.Contains(l, "checkpoint at step "+strconv.Itoa(saved.Step)+"\n") {
		t.Errorf("attempt 1 logs lack the checkpoint line:\n%s", l)
	}
	// The controller records the status, cleans up and requeues.
	if err := e.Cleanup(context.Background(), "train"); err != nil {
		t.Fatal(err)
	}

	s.Attempt = 2
	s.Env = map[string]string{"EXTRA_STEPS": "3"}
	start(t, e, s)
	st = waitFinal(t, e, "train")
	l := logsOf(t, e, "train")
	if st.Phase != executor.PhaseSucceeded {
		t.Fatalf("attempt 2: %s %q; logs:\n%s", st.Phase, st.Message, l)
	}
	k := saved.Step
	want := "resumed from step " + strconv.Itoa(k) + "\nstep " + strconv.Itoa(k+1) + "\nstep " + strconv.Itoa(k+2) +
		"\nstep " + strconv.Itoa(k+3) + "\ndone at step " + strconv.Itoa(k+3) + "\n"
	if l != want {
		t.Errorf("attempt 2 logs = %q, want %q", l, want)
	}
	if err := e.Cleanup(context.Background(), "train"); err != nil {
		t.Fatal(err)
	}
	if fileExists(e.paths.checkpoint("train")) {
		t.Error("the checkpoint of a job that succeeded outlived Cleanup")
	}
}

func TestAttempts(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{})
	s := spec("att", `echo "attempt $MLPORTAL_ATTEMPT"; sleep 1000`)
	s.Attempt = 2
	start(t, e, s)
	waitLog(t, e, "att", "attempt 2")
	s.Attempt = 3
	if err := e.Start(context.Background(), s); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Start of attempt 3 while 2 runs = %v, want ErrConflict", err)
	}
	s.Attempt = 1
	if err := e.Start(context.Background(), s); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Start of attempt 1 after 2 = %v, want ErrConflict", err)
	}
	if err := e.Stop(context.Background(), "att", executor.StopPreempt, 0); err != nil {
		t.Fatal(err)
	}
	s.Attempt = 3
	start(t, e, s)
	waitLog(t, e, "att", "attempt 3")
	if err := e.Stop(context.Background(), "att", executor.StopCancel, 0); err != nil {
		t.Fatal(err)
	}
}

func TestStartRefusesSpecsItCannotRun(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{NodeName: "box"})
	for name, s := range map[string]executor.Spec{
		"bad id":        {JobID: "../escape", Command: []string{"true"}},
		"no command":    {JobID: "j"},
		"gpus, no gpus": {JobID: "j", Command: []string{"true"}, GPUs: 1},
		"other node":    {JobID: "j", Command: []string{"true"}, Nodes: []string{"elsewhere"}},
		"no workspace":  {JobID: "j", Command: []string{"true"}, Workspace: filepath.Join(t.TempDir(), "missing")},
	} {
		if err := e.Start(context.Background(), s); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("%s: Start = %v, want ErrInvalid", name, err)
		}
	}
	nodes, err := e.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Name != "box" || nodes[0].GPUs != 0 || nodes[0].CPUMillis <= 0 || nodes[0].MemoryBytes <= 0 {
		t.Errorf("Inventory without GPUs = %+v, want node box with CPUs and memory", nodes)
	}
}

// A fake nvidia-smi with four A100s on PATH: two 2-GPU jobs get disjoint
// devices, a third is refused until one ends.
func TestGPUAssignment(t *testing.T) {
	needProcesses(t)
	dir, _ := fakeNvidiaSMI(t, 4)
	t.Setenv(EnvFakeNvidiaSMI, "")
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	e, _ := newExecutor(t, Config{NodeName: "gpu-box"})

	nodes, err := e.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := nodes[0]; n.GPUs != 4 || n.GPUType != "a100-80gb" || n.GPUMemoryBytes != 80<<30 || n.Name != "gpu-box" {
		t.Fatalf("Inventory = %+v, want gpu-box with 4 a100-80gb of 80 GiB", n)
	}

	devices := map[string]string{}
	for _, id := range []string{"a", "b"} {
		s := spec(id, `echo "cuda=$CUDA_VISIBLE_DEVICES nvidia=$NVIDIA_VISIBLE_DEVICES order=$CUDA_DEVICE_ORDER"; sleep 1000`)
		s.GPUs, s.GPUType, s.Nodes = 2, "a100-80gb", []string{"gpu-box"}
		start(t, e, s)
		l := waitLog(t, e, id, "cuda=")
		var cuda, nvidia, order string
		if _, err := sscanf(l, "cuda=%s nvidia=%s order=%s", &cuda, &nvidia, &order); err != nil {
			t.Fatalf("job %s printed %q: %v", id, l, err)
		}
		if cuda != nvidia || order != "PCI_BUS_ID" || len(strings.Split(cuda, ",")) != 2 {
			t.Errorf("job %s: CUDA_VISIBLE_DEVICES=%s NVIDIA_VISIBLE_DEVICES=%s CUDA_DEVICE_ORDER=%s, want two devices, the same in both", id, cuda, nvidia, order)
		}
		st, _ := e.Status(context.Background(), id)
		if got := joinInts(st.Replicas[0].GPUs); got != cuda {
			t.Errorf("job %s: Status says GPUs %s, the job sees %s", id, got, cuda)
		}
		devices[id] = cuda
	}
	all := strings.Split(devices["a"]+","+devices["b"], ",")
	slices.Sort(all)
	if strings.Join(all, ",") != "0,1,2,3" {
		t.Errorf("jobs a and b got %s and %s, want disjoint devices covering 0-3", devices["a"], devices["b"])
	}

	c := spec("c", `echo "cuda=$CUDA_VISIBLE_DEVICES"`)
	c.GPUs = 1
	err = e.Start(context.Background(), c)
	if !errors.Is(err, fault.ErrConflict) || !strings.Contains(err.Error(), "held by a, b") {
		t.Fatalf("Start of a third GPU job = %v, want ErrConflict naming a and b", err)
	}
	if _, err := e.Status(context.Background(), "c"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("a refused job is known: %v", err)
	}
	tooBig := spec("huge", "true")
	tooBig.GPUs = 8
	if err := e.Start(context.Background(), tooBig); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Start of an 8-GPU job on a 4-GPU node = %v, want ErrInvalid", err)
	}
	wrongType := spec("h100", "true")
	wrongType.GPUs, wrongType.GPUType = 1, "h100-80gb"
	if err := e.Start(context.Background(), wrongType); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Start of an h100 job on an a100 node = %v, want ErrInvalid", err)
	}

	if err := e.Stop(context.Background(), "a", executor.StopCancel, 0); err != nil {
		t.Fatal(err)
	}
	start(t, e, c)
	if st := waitFinal(t, e, "c"); st.Phase != executor.PhaseSucceeded {
		t.Fatalf("job c: %s %s", st.Phase, st.Message)
	}
	if l := logsOf(t, e, "c"); !strings.Contains(devices["a"], strings.TrimSpace(strings.TrimPrefix(l, "cuda="))) {
		t.Errorf("job c got %q, want one of a's freed devices %s", l, devices["a"])
	}
}

func TestMultiReplica(t *testing.T) {
	needProcesses(t)
	_, smi := fakeNvidiaSMI(t, 4)
	e, _ := newExecutor(t, Config{FakeGPUs: smi})
	s := spec("dist", `echo "rank=$RANK local=$LOCAL_RANK world=$WORLD_SIZE addr=$MASTER_ADDR port=$MASTER_PORT cuda=$CUDA_VISIBLE_DEVICES"
echo "second line of $RANK"`)
	s.Replicas, s.GPUs = 2, 1
	start(t, e, s)
	var follow bytes.Buffer
	if err := e.Logs(context.Background(), "dist", true, &follow); err != nil {
		t.Fatal(err)
	}
	st := waitFinal(t, e, "dist")
	if st.Phase != executor.PhaseSucceeded || len(st.Replicas) != 2 {
		t.Fatalf("status = %+v", st)
	}
	out := logsOf(t, e, "dist")
	if follow.Len() != len(out) {
		t.Errorf("Logs(follow) returned %q, Logs %q: want the same lines", follow.String(), out)
	}
	port := ""
	cudas := map[string]bool{}
	for r := range 2 {
		var rank, local, world, addr, p, cuda string
		line := lineWithPrefix(out, "["+strconv.Itoa(r)+"] rank=")
		if _, err := sscanf(line, "["+strconv.Itoa(r)+"] rank=%s local=%s world=%s addr=%s port=%s cuda=%s", &rank, &local, &world, &addr, &p, &cuda); err != nil {
			t.Fatalf("replica %d printed %q (%v); logs:\n%s", r, line, err, out)
		}
		if rank != strconv.Itoa(r) || local != rank || world != "2" || addr != "127.0.0.1" {
			t.Errorf("replica %d: rank=%s local=%s world=%s addr=%s", r, rank, local, world, addr)
		}
		if port == "" {
			port = p
		} else if p != port {
			t.Errorf("replicas disagree on MASTER_PORT: %s and %s", port, p)
		}
		cudas[cuda] = true
		if !strings.Contains(out, "["+strconv.Itoa(r)+"] second line of "+strconv.Itoa(r)+"\n") {
			t.Errorf("replica %d's second line is missing or unprefixed:\n%s", r, out)
		}
	}
	if len(cudas) != 2 {
		t.Errorf("replicas share a GPU: %v", cudas)
	}
	if n, _ := strconv.Atoi(port); n <= 0 {
		t.Errorf("MASTER_PORT=%q", port)
	}
}

// When one replica fails the others are stopped and the job fails.
func TestMultiReplicaFailureStopsTheOthers(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{StopGrace: time.Second})
	s := spec("gang", `if [ "$RANK" = 1 ]; then exit 4; fi; echo waiting; sleep 1000`)
	s.Replicas = 3
	start(t, e, s)
	st := waitFinal(t, e, "gang")
	if st.Phase != executor.PhaseFailed || st.ExitCode != 4 || !strings.Contains(st.Message, "replica 1: exit code 4; the other replicas were stopped") {
		t.Errorf("status = %s %d %q, want Failed 4 naming replica 1", st.Phase, st.ExitCode, st.Message)
	}
}

func TestLogsFollowUntilEnd(t *testing.T) {
	needProcesses(t)
	e, _ := newExecutor(t, Config{})
	out := t.TempDir()
	s := spec("chatty", `for i in 1 2 3; do echo "line $i"; done; while [ ! -f "$OUT/end" ]; do sleep 0.05; done; printf "last, no newline"`)
	s.Env = map[string]string{"OUT": out}
	start(t, e, s)
	waitLog(t, e, "chatty", "line 3")
	r, w := ioPipe()
	done := make(chan error, 1)
	go func() { done <- e.Logs(context.Background(), "chatty", true, w); w.Close() }()
	if got := readUntil(t, r, "line 3\n"); got != "line 1\nline 2\nline 3\n" {
		t.Errorf("follow began with %q", got)
	}
	if err := os.WriteFile(filepath.Join(out, "end"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rest := readAll(t, r)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rest != "last, no newline" {
		t.Errorf("follow ended with %q", rest)
	}

	ctx, cancel := context.WithCancel(context.Background())
	start(t, e, spec("forever", "sleep 1000"))
	cancel()
	if err := e.Logs(ctx, "forever", true, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Logs(follow) with a cancelled context = %v", err)
	}
	if err := e.Logs(context.Background(), "nope", false, &bytes.Buffer{}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Logs of an unknown job = %v, want ErrNotFound", err)
	}
}
