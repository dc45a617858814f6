package local

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
)

var _ executor.Executor = (*Executor)(nil)

// Executor runs jobs as processes on this machine. It is safe for
// concurrent use. Jobs outlive it: Close stops following them, and a new
// Executor over the same Dir picks them up again.
type Executor struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock
	paths paths
	node  scheduler.Node
	gpus  []gpu // the devices jobs may be given
	py    *pyenvs
	sh    string   // the shell the wrapper runs in
	env   []string // the server's environment, filtered per job

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// lock is held while this executor runs the jobs in Dir.
	lock      *os.File
	closeOnce sync.Once

	mu    sync.Mutex
	jobs  map[string]*job
	inUse map[int]string // GPU index → job id
}

// job is a job's current attempt.
type job struct {
	st   *jobState     // guarded by Executor.mu
	done chan struct{} // closed once st.Phase is final
	wake chan struct{} // a stop was requested: the monitor re-reads st.Stop
	// cancelPrep stops preparing the workspace (guarded by Executor.mu).
	cancelPrep context.CancelFunc
	// cmds are the wrappers this Executor started (nil when adopted after a
	// restart); waitCode[i] is cmds[i]'s status once reaped.
	cmds     []*exec.Cmd
	waitCode []int
}

// New returns a local executor over cfg.Dir, reads the GPU inventory and
// takes over the jobs a previous executor left there: running ones are
// followed again (and can be stopped), ones that ended meanwhile get their
// final status, ones whose preparation was interrupted are prepared again.
func New(cfg Config, log *slog.Logger) (*Executor, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("executor", "local")
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil, fault.New(fault.ErrUnavailable, "the local executor runs jobs under sh, which is not on the server's PATH: %v", err)
	}
	// jobs/ is private: job states hold the jobs' environment variables.
	for _, d := range []struct {
		path string
		perm os.FileMode
	}{{cfg.Dir, 0o755}, {filepath.Join(cfg.Dir, "jobs"), 0o700}, {cfg.CacheDir, 0o755}} {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return nil, fault.New(fault.ErrUnavailable, "the local executor cannot create %s (%v); make the directory writable by mlportal or choose another", d.path, err)
		}
	}
	smi, err := nvidiaSMIPath(cfg.FakeGPUs)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	all, err := detectGPUs(ctx, smi, cfg.GPUTypes)
	if err != nil {
		cancel()
		lock.Close()
		return nil, err
	}
	e := &Executor{
		cfg: cfg, log: log, clock: cfg.Clock, paths: paths{root: cfg.Dir},
		sh: sh, env: os.Environ(), ctx: ctx, cancel: cancel, lock: lock,
		jobs: map[string]*job{}, inUse: map[int]string{},
	}
	e.py = &pyenvs{python: cfg.Python, dir: filepath.Join(cfg.CacheDir, "venvs"), log: log, env: e.env, poll: cfg.PollInterval}
	e.node, e.gpus = e.describeNode(all)
	if err := e.recover(); err != nil {
		cancel()
		lock.Close()
		return nil, err
	}
	log.Info("local executor ready", "node", e.node.Name, "gpus", e.node.GPUs, "gpuType", e.node.GPUType, "jobs", len(e.jobs))
	return e, nil
}

// describeNode makes the scheduler's view of this machine. A node has GPUs
// of one type: with mixed devices, those of device 0's type are used and the
// others left out (logged).
func (e *Executor) describeNode(all []gpu) (scheduler.Node, []gpu) {
	n := scheduler.Node{
		Name:        e.cfg.NodeName,
		Pool:        scheduler.PoolOnDemand,
		CPUMillis:   int64(runtime.NumCPU()) * 1000,
		MemoryBytes: memTotal(),
		Labels:      map[string]string{"mlportal.io/executor": "local"},
	}
	if len(all) == 0 {
		return n, nil
	}
	slices.SortFunc(all, func(a, b gpu) int { return a.Index - b.Index })
	var use []gpu
	for _, g := range all {
		if g.Type != all[0].Type {
			e.log.Warn("GPU left out of the inventory: a node has GPUs of one type", "index", g.Index, "name", g.Name, "type", g.Type, "nodeType", all[0].Type)
			continue
		}
		use = append(use, g)
		if n.GPUMemoryBytes == 0 || g.MemoryBytes < n.GPUMemoryBytes {
			n.GPUMemoryBytes = g.MemoryBytes
		}
	}
	n.GPUType = all[0].Type
	n.GPUs = len(use)
	n.Labels["nvidia.com/gpu.product"] = strings.ReplaceAll(all[0].Name, " ", "-")
	return n, use
}

// memTotal reads MemTotal from /proc/meminfo (0 if unreadable).
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// Close stops following jobs and returns once the executor's goroutines
// have ended. Jobs keep running; a new Executor over the same Dir takes
// them over.
func (e *Executor) Close() error {
	e.cancel()
	e.wg.Wait()
	e.closeOnce.Do(func() { e.lock.Close() })
	return nil
}

// lockDir takes the executor's lock on dir for as long as the returned file
// is open: two servers following the same jobs would fight over them. The
// descriptor is close-on-exec, so jobs never hold the lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "executor.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fault.New(fault.ErrUnavailable, "the local executor cannot create its lock in %s (%v); make the directory writable by mlportal", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fault.New(fault.ErrConflict, "another mlportal server runs the jobs in %s (%v); stop it, or give this server its own executor directory", dir, err)
	}
	return f, nil
}

// open refuses calls that need the executor's goroutines after Close.
func (e *Executor) open() error {
	if e.ctx.Err() != nil {
		return fault.New(fault.ErrUnavailable, "the local executor is shut down; this is a bug in the caller, which must not use it after Close")
	}
	return nil
}

// Inventory returns this machine as one node.
func (e *Executor) Inventory(ctx context.Context) ([]scheduler.Node, error) {
	n := e.node
	n.Labels = maps.Clone(n.Labels)
	return []scheduler.Node{n}, nil
}

// Start prepares and launches the job in the background and returns once
// its GPUs are reserved and its state recorded (PhasePending; Running once
// launched). Starting the same attempt again is a no-op; a higher Attempt
// starts a new run once the previous one has ended (the checkpoint dir is
// kept). Start refuses with fault.ErrConflict a job whose GPUs are not free.
func (e *Executor) Start(ctx context.Context, spec executor.Spec) error {
	if err := e.open(); err != nil {
		return err
	}
	if spec.Attempt <= 0 {
		spec.Attempt = 1
	}
	if spec.Replicas <= 0 {
		spec.Replicas = 1
	}
	if err := e.validate(spec); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.jobs[spec.JobID]; ok {
		switch {
		case spec.Attempt == old.st.Attempt:
			return nil
		case spec.Attempt < old.st.Attempt:
			return fault.New(fault.ErrConflict, "job %s is already at attempt %d; attempt %d cannot start again", spec.JobID, old.st.Attempt, spec.Attempt)
		case !old.st.Phase.Final():
			return fault.New(fault.ErrConflict, "attempt %d of job %s is still %s; stop it before starting attempt %d", old.st.Attempt, spec.JobID, old.st.Phase, spec.Attempt)
		}
	}
	devices, err := e.reserve(spec)
	if err != nil {
		return err
	}
	st := &jobState{
		Version: stateVersion, Spec: spec, Attempt: spec.Attempt,
		Phase: executor.PhasePending, Message: "preparing the workspace",
		CreatedAt: e.clock.Now(), Node: e.node.Name,
		CheckpointDir: spec.CheckpointDir,
	}
	if st.CheckpointDir == "" {
		st.CheckpointDir, st.OwnCheckpoint = e.paths.checkpoint(spec.JobID), true
	}
	for i := 0; i < spec.Replicas; i++ {
		st.Replicas = append(st.Replicas, replicaState{Index: i, GPUs: devices[i]})
	}
	if err := saveState(e.paths.state(spec.JobID), st); err != nil {
		return fault.New(fault.ErrUnavailable, "the local executor cannot record job %s: %v; check free space and permissions of its directory", spec.JobID, err)
	}
	j := newJob(st)
	e.jobs[spec.JobID] = j
	e.hold(j)
	e.log.Info("job accepted", "job", spec.JobID, "attempt", spec.Attempt, "replicas", spec.Replicas, "gpus", devices)
	e.goPrepare(j)
	return nil
}

func newJob(st *jobState) *job {
	return &job{st: st, done: make(chan struct{}), wake: make(chan struct{}, 1),
		cmds: make([]*exec.Cmd, len(st.Replicas)), waitCode: make([]int, len(st.Replicas))}
}

// Status reports the job's current attempt.
func (e *Executor) Status(ctx context.Context, jobID string) (executor.Status, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	j, ok := e.jobs[jobID]
	if !ok {
		return executor.Status{}, fault.NotFound("job", jobID)
	}
	st := j.st
	s := executor.Status{
		JobID: jobID, Phase: st.Phase, Message: st.Message, ExitCode: st.ExitCode,
		StartedAt: st.StartedAt, FinishedAt: st.FinishedAt,
	}
	for _, r := range st.Replicas {
		rs := executor.ReplicaStatus{Index: r.Index, Node: st.Node, GPUs: slices.Clone(r.GPUs), Phase: st.Phase}
		if !st.Phase.Final() && r.Exited {
			rs.Phase = executor.PhaseSucceeded
			if r.ExitCode != 0 {
				rs.Phase = executor.PhaseFailed
			}
		}
		s.Replicas = append(s.Replicas, rs)
	}
	return s, nil
}

// Stop asks the job to end: SIGTERM to its process group, then SIGKILL to
// the group once grace has passed. It returns when the job has ended (or
// ctx is done; the stop goes on). A job still being prepared ends at once.
// A cancel overrides a preemption in progress; otherwise the first reason
// stands. Stopping an unknown or ended job is a no-op.
func (e *Executor) Stop(ctx context.Context, jobID string, reason executor.StopReason, grace time.Duration) error {
	if reason != executor.StopCancel && reason != executor.StopPreempt {
		return fault.Invalid("unknown stop reason", fault.Field("reason", "must be %q or %q (got %q)", executor.StopCancel, executor.StopPreempt, reason))
	}
	if err := e.open(); err != nil {
		return err
	}
	if grace < 0 {
		grace = 0
	}
	e.mu.Lock()
	j, ok := e.jobs[jobID]
	if !ok || j.st.Phase.Final() {
		e.mu.Unlock()
		return nil
	}
	e.requestStop(j, string(reason), grace)
	e.mu.Unlock()
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("job %s is still stopping: %w", jobID, ctx.Err())
	}
}

// Cleanup removes an ended job's directory (run directory, logs, state) and
// the checkpoint directory the executor made for it, unless the job was
// preempted and will resume from it. A running job is refused
// (fault.ErrConflict); an unknown one is a no-op.
func (e *Executor) Cleanup(ctx context.Context, jobID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	j, ok := e.jobs[jobID]
	if !ok {
		return nil
	}
	if !j.st.Phase.Final() {
		return fault.New(fault.ErrConflict, "job %s is %s; stop it before cleaning up", jobID, j.st.Phase)
	}
	if err := os.RemoveAll(e.paths.job(jobID)); err != nil {
		return fault.New(fault.ErrUnavailable, "cleaning up job %s: %v; check the permissions of the executor's directory", jobID, err)
	}
	delete(e.jobs, jobID)
	if j.st.OwnCheckpoint && j.st.Phase != executor.PhasePreempted {
		if err := os.RemoveAll(j.st.CheckpointDir); err != nil {
			e.log.Warn("checkpoint directory not removed", "job", jobID, "err", err)
		}
	}
	return nil
}
