package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
)

// goPrepare prepares and launches the job in the background (mu held).
func (e *Executor) goPrepare(j *job) {
	ctx, cancel := context.WithCancel(e.ctx)
	j.cancelPrep = cancel
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer cancel()
		venv, err := e.prepare(ctx, j)
		e.mu.Lock()
		if e.ctx.Err() != nil { // closing: the next executor prepares again
			e.mu.Unlock()
			return
		}
		id := j.st.Spec.JobID
		switch {
		case j.st.Stop != nil:
			e.finish(j, "before it started")
			e.mu.Unlock()
			return
		case err != nil:
			e.log.Warn("job failed before it started", "job", id, "err", err)
			j.st.ExitCode = -1
			j.st.Stop = &stopState{Reason: stopFailed, RequestedAt: e.clock.Now()}
			j.st.Message = err.Error()
			e.finish(j, "")
			e.mu.Unlock()
			return
		}
		err = e.launch(j, venv)
		if err != nil {
			j.st.ExitCode = -1
			j.st.Stop = &stopState{Reason: stopFailed, RequestedAt: e.clock.Now()}
			j.st.Message = err.Error()
			e.finish(j, "")
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		e.monitor(j)
	}()
}

// prepare makes the checkpoint directory, the run directory (a copy of the
// workspace) and the virtualenv. It reads only the immutable parts of the
// job's state, so it runs without the lock.
func (e *Executor) prepare(ctx context.Context, j *job) (venv string, err error) {
	spec, attempt, ckpt := j.st.Spec, j.st.Attempt, j.st.CheckpointDir
	if err := os.MkdirAll(ckpt, 0o755); err != nil {
		return "", fmt.Errorf("cannot create the checkpoint directory %s: %v; make it writable by mlportal", ckpt, err)
	}
	// Earlier attempts keep their logs, not their scratch.
	for n := 1; n < attempt; n++ {
		_ = os.RemoveAll(e.paths.runDir(spec.JobID, n))
	}
	run := e.paths.runDir(spec.JobID, attempt)
	if err := os.RemoveAll(run); err != nil { // a half-made copy
		return "", fmt.Errorf("cannot clear the run directory: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(run), 0o755); err != nil {
		return "", fmt.Errorf("cannot create the job's directory: %v", err)
	}
	if spec.Workspace == "" {
		if err := os.Mkdir(run, 0o755); err != nil {
			return "", fmt.Errorf("cannot create the run directory: %v", err)
		}
	} else if err := copyTree(ctx, spec.Workspace, run); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("copying the workspace failed: %v; check that the server can read every file of the project and that the disk has room", err)
	}
	req := filepath.Join(run, "requirements.txt")
	if _, err := os.Stat(req); err != nil {
		return "", nil
	}
	return e.py.ensure(ctx, spec.JobID, req)
}

// launch starts every replica under the wrapper in one process group and
// records their pids (mu held). Replica 0's wrapper leads the group; the
// others join it. None is reaped before all have started, so the group
// exists while they join.
func (e *Executor) launch(j *job, venv string) error {
	st := j.st
	id := st.Spec.JobID
	if len(st.Replicas) > 1 {
		port, err := freePort()
		if err != nil {
			return fmt.Errorf("no free loopback port for MASTER_PORT: %v", err)
		}
		st.MasterPort = port
	}
	st.Venv = venv
	run := e.paths.runDir(id, st.Attempt)
	for i := range st.Replicas {
		r := &st.Replicas[i]
		logf, err := os.OpenFile(e.paths.log(id, st.Attempt, i), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			e.killStarted(j)
			return fmt.Errorf("cannot create the log of replica %d: %v", i, err)
		}
		args := wrapperArgs(id, e.paths.pidFile(id, st.Attempt, i), e.paths.exitFile(id, st.Attempt, i), st.Spec.Command)
		cmd := exec.Command(e.sh, args[1:]...)
		cmd.Args[0] = args[0]
		cmd.Dir = run
		cmd.Env = jobEnv(e.env, e.cfg.PassEnv, st.Spec.Env, replicaEnv{
			JobID: id, Attempt: st.Attempt, CheckpointDir: st.CheckpointDir, Venv: venv,
			GPUs: r.GPUs, Rank: i, Replicas: len(st.Replicas), MasterPort: st.MasterPort,
		})
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: st.PGID}
		err = cmd.Start()
		logf.Close()
		if err != nil {
			e.killStarted(j)
			return fmt.Errorf("cannot start replica %d: %v", i, err)
		}
		ps, err := readProcStat(cmd.Process.Pid)
		if err != nil {
			e.killStarted(j)
			return fmt.Errorf("replica %d vanished at start: %v", i, err)
		}
		r.PID, r.Start = cmd.Process.Pid, ps.Start
		if i == 0 {
			st.PGID, st.LeaderStart = r.PID, r.Start
		}
		j.cmds[i] = cmd
	}
	now := e.clock.Now()
	st.Phase, st.Message, st.StartedAt = executor.PhaseRunning, "running", now
	if st.Spec.Timeout > 0 {
		st.Deadline = now.Add(st.Spec.Timeout)
	}
	e.save(j)
	e.log.Info("job started", "job", id, "attempt", st.Attempt, "pgid", st.PGID, "venv", venv != "")
	return nil
}

// killStarted kills the replicas launch had started before failing.
func (e *Executor) killStarted(j *job) {
	if j.st.PGID != 0 {
		_ = syscall.Kill(-j.st.PGID, syscall.SIGKILL)
	}
	for _, c := range j.cmds {
		if c != nil {
			_ = c.Wait()
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// monitor follows a running job to its end: replica exits, the timeout,
// stop escalation. It returns when the job is final or the executor closes.
func (e *Executor) monitor(j *job) {
	e.mu.Lock()
	n := len(j.st.Replicas)
	exited := make(chan int, n)
	waiting := 0
	for i, r := range j.st.Replicas {
		if r.Exited {
			continue
		}
		waiting++
		if c := j.cmds[i]; c != nil {
			go func() {
				err := c.Wait()
				j.waitCode[i] = waitCode(c, err)
				exited <- i
			}()
		} else {
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				for running(r.PID, r.Start) && !fileExists(e.paths.exitFile(j.st.Spec.JobID, j.st.Attempt, i)) {
					select {
					case <-e.ctx.Done():
						return
					case <-time.After(e.cfg.PollInterval):
					}
				}
				j.waitCode[i] = -1
				exited <- i
			}()
		}
	}
	deadline := timerAt(e.clock.Now(), j.st.Deadline)
	var kill timer
	if j.st.Stop != nil && !j.st.Stop.Killed {
		kill = timerAt(e.clock.Now(), j.st.Stop.KillAt)
	}
	e.mu.Unlock()
	defer func() { deadline.Stop(); kill.Stop() }()

	for waiting > 0 {
		select {
		case i := <-exited:
			waiting--
			e.mu.Lock()
			e.replicaExited(j, i)
			if kill.t == nil && j.st.Stop != nil {
				kill = timerAt(e.clock.Now(), j.st.Stop.KillAt)
			}
			e.mu.Unlock()
		case <-deadline.C():
			e.mu.Lock()
			if j.st.Stop == nil {
				e.log.Info("job timed out", "job", j.st.Spec.JobID, "timeout", j.st.Spec.Timeout)
				e.requestStop(j, stopTimeout, e.cfg.StopGrace)
			}
			e.mu.Unlock()
		case <-j.wake:
			e.mu.Lock()
			kill.Stop()
			kill = timerAt(e.clock.Now(), j.st.Stop.KillAt)
			e.mu.Unlock()
		case <-kill.C():
			e.mu.Lock()
			e.killGroup(j)
			e.mu.Unlock()
		case <-e.ctx.Done():
			return
		}
	}
	e.mu.Lock()
	pgid, leader, id, attempt := j.st.PGID, j.st.LeaderStart, j.st.Spec.JobID, j.st.Attempt
	e.mu.Unlock()
	// The main processes have ended; what they left behind in the group
	// goes with them, as in a container.
	e.killLeftovers(pgid, leader, id, attempt)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finish(j, "")
}

// killLeftovers sends SIGKILL to the job's group until it has no live
// process left, so that a job reported ended has really ended (a signal is
// delivered when the process next runs, not when kill returns). A process
// stuck in the kernel (uninterruptible I/O) is given up on after a while,
// with a warning.
func (e *Executor) killLeftovers(pgid int, leader uint64, id string, attempt int) {
	const patience = 10 * time.Second
	giveUp := time.Now().Add(patience)
	for {
		n, err := signalGroup(pgid, leader, id, attempt, syscall.SIGKILL)
		if err != nil {
			e.log.Warn("leftover processes not killed", "job", id, "err", err)
			return
		}
		if n == 0 {
			return
		}
		if time.Now().After(giveUp) {
			e.log.Warn("leftover processes survive SIGKILL", "job", id, "pgid", pgid, "processes", n, "waited", patience)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// replicaExited records replica i's exit (mu held). The wrapper's file is
// the status; without it (SIGKILL) the wait status or -1. A failing replica
// of a job with several stops the others.
func (e *Executor) replicaExited(j *job, i int) {
	r := &j.st.Replicas[i]
	code, ok := readExitFile(e.paths.exitFile(j.st.Spec.JobID, j.st.Attempt, i))
	if !ok {
		code = j.waitCode[i]
	}
	r.Exited, r.ExitCode = true, code
	e.log.Info("replica ended", "job", j.st.Spec.JobID, "replica", i, "code", code)
	if code != 0 && j.st.ExitCode == 0 {
		j.st.ExitCode = code
	}
	if code != 0 && j.st.Stop == nil {
		j.st.Message = describeExit(code)
		if len(j.st.Replicas) > 1 {
			j.st.Message = fmt.Sprintf("replica %d: %s", i, j.st.Message)
			if !allExited(j.st) {
				j.st.Message += "; the other replicas were stopped"
				e.requestStop(j, stopFailed, e.cfg.StopGrace)
				return
			}
		}
	}
	e.save(j)
}

func allExited(st *jobState) bool {
	for _, r := range st.Replicas {
		if !r.Exited {
			return false
		}
	}
	return true
}

// waitCode is an own wrapper's status as a shell would report it.
func waitCode(c *exec.Cmd, err error) int {
	if c.ProcessState == nil {
		return -1
	}
	if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1
	}
	return c.ProcessState.ExitCode()
}

// requestStop starts stopping the job (mu held): SIGTERM now, SIGKILL at
// KillAt (the monitor's timer). A job still being prepared is finished by
// its preparer, which this cancels.
func (e *Executor) requestStop(j *job, reason string, grace time.Duration) {
	if j.st.Phase.Final() {
		return
	}
	now := e.clock.Now()
	killAt := now.Add(grace)
	if s := j.st.Stop; s != nil {
		if reason == string(executor.StopCancel) && s.Reason == string(executor.StopPreempt) {
			s.Reason = reason
		}
		if killAt.Before(s.KillAt) {
			s.KillAt = killAt
		}
	} else {
		j.st.Stop = &stopState{Reason: reason, RequestedAt: now, KillAt: killAt}
		e.log.Info("stopping job", "job", j.st.Spec.JobID, "reason", reason, "grace", grace)
	}
	e.save(j)
	if j.st.Phase == executor.PhasePending {
		if j.cancelPrep != nil {
			j.cancelPrep()
		}
		return
	}
	if _, err := signalGroup(j.st.PGID, j.st.LeaderStart, j.st.Spec.JobID, j.st.Attempt, syscall.SIGTERM); err != nil {
		e.log.Warn("SIGTERM not delivered", "job", j.st.Spec.JobID, "err", err)
	}
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// killGroup sends SIGKILL to the job's group once the grace has passed
// (mu held).
func (e *Executor) killGroup(j *job) {
	if j.st.Stop == nil || j.st.Stop.Killed {
		return
	}
	n, err := signalGroup(j.st.PGID, j.st.LeaderStart, j.st.Spec.JobID, j.st.Attempt, syscall.SIGKILL)
	if err != nil {
		e.log.Warn("SIGKILL not delivered", "job", j.st.Spec.JobID, "err", err)
	}
	if n > 0 {
		j.st.Stop.Killed = true
		e.log.Info("job killed after its grace period", "job", j.st.Spec.JobID, "processes", n)
	}
	e.save(j)
}

// finish gives the job its final phase, frees its GPUs and wakes whoever
// waits on it (mu held). when qualifies stops ("before it started").
func (e *Executor) finish(j *job, when string) {
	st := j.st
	if st.Phase.Final() {
		return
	}
	phase, msg := executor.PhaseSucceeded, "exit code 0"
	if s := st.Stop; s != nil {
		killed := ""
		if s.Killed {
			killed = fmt.Sprintf("; killed with SIGKILL %s after SIGTERM", s.KillAt.Sub(s.RequestedAt).Round(time.Millisecond))
		}
		switch s.Reason {
		case string(executor.StopCancel):
			phase, msg = executor.PhaseCancelled, "cancelled"
		case string(executor.StopPreempt):
			phase, msg = executor.PhasePreempted, "preempted to make room for other work; it resumes from its last checkpoint when started again"
		case stopTimeout:
			phase, msg = executor.PhaseTimedOut, fmt.Sprintf("ran longer than its %s timeout and was stopped", st.Spec.Timeout)
		default:
			phase, msg = executor.PhaseFailed, st.Message
		}
		if when != "" {
			msg += " " + when
		}
		msg += killed
	} else {
		for _, r := range st.Replicas {
			if r.ExitCode != 0 {
				phase, msg = executor.PhaseFailed, st.Message
				break
			}
		}
	}
	st.Phase, st.Message, st.FinishedAt = phase, msg, e.clock.Now()
	e.release(j)
	e.save(j)
	close(j.done)
	e.log.Info("job ended", "job", st.Spec.JobID, "attempt", st.Attempt, "phase", phase, "exitCode", st.ExitCode)
}

// save persists the job's state; a failure is logged (the job goes on, and
// the next save retries).
func (e *Executor) save(j *job) {
	if err := saveState(e.paths.state(j.st.Spec.JobID), j.st); err != nil {
		e.log.Error("job state not saved", "job", j.st.Spec.JobID, "err", err)
	}
}

// recover takes over the jobs in Dir (from New).
func (e *Executor) recover() error {
	entries, err := os.ReadDir(e.paths.jobs())
	if err != nil {
		return fmt.Errorf("read the executor's jobs: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		st, err := loadState(e.paths.state(ent.Name()))
		if isNotExist(err) {
			continue
		}
		if err != nil {
			e.log.Error("job left out: its state is unreadable", "job", ent.Name(), "err", err)
			continue
		}
		j := newJob(st)
		e.jobs[st.Spec.JobID] = j
		if st.Phase.Final() {
			close(j.done)
			continue
		}
		e.hold(j)
		e.log.Info("taking over job", "job", st.Spec.JobID, "phase", st.Phase)
		if st.Stop != nil && !st.Stop.Killed && st.Phase == executor.PhaseRunning {
			// The server may have stopped between recording the stop and
			// signalling: signal again (SIGTERM twice is harmless).
			_, _ = signalGroup(st.PGID, st.LeaderStart, st.Spec.JobID, st.Attempt, syscall.SIGTERM)
		}
		if st.Phase == executor.PhasePending && !e.adoptLaunched(j) {
			if st.Stop != nil {
				e.finish(j, "before it started")
				continue
			}
			e.goPrepare(j)
			continue
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.monitor(j)
		}()
	}
	return nil
}

// adoptLaunched handles a server that stopped between starting a job's
// processes and recording them: the wrappers' pid files name them. It
// reports whether the job had been launched (mu held).
func (e *Executor) adoptLaunched(j *job) bool {
	st := j.st
	id := st.Spec.JobID
	found := false
	for i := range st.Replicas {
		r := &st.Replicas[i]
		pid, ok := readPIDFile(e.paths.pidFile(id, st.Attempt, i))
		if !ok {
			continue
		}
		found = true
		ps, err := readProcStat(pid)
		if err == nil && environHas(pid, envJobID+"="+id) {
			r.PID, r.Start = pid, ps.Start
			if i == 0 {
				st.PGID, st.LeaderStart = pid, ps.Start
			}
		}
	}
	if !found {
		return false
	}
	for i := range st.Replicas {
		r := &st.Replicas[i]
		if r.PID == 0 {
			code, ok := readExitFile(e.paths.exitFile(id, st.Attempt, i))
			if !ok {
				code = -1
			}
			r.Exited, r.ExitCode = true, code
			if code != 0 && st.ExitCode == 0 {
				st.ExitCode = code
				st.Message = fmt.Sprintf("replica %d: %s", i, describeExit(code))
			}
		}
	}
	st.Phase, st.Message = executor.PhaseRunning, "running"
	if st.StartedAt.IsZero() {
		st.StartedAt = e.clock.Now()
	}
	if st.ExitCode != 0 && !allExited(st) && st.Stop == nil {
		st.Stop = &stopState{Reason: stopFailed, RequestedAt: e.clock.Now(), KillAt: e.clock.Now()}
	}
	e.save(j)
	return true
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// timer is a *time.Timer whose nil value never fires.
type timer struct{ t *time.Timer }

func timerAt(now, at time.Time) timer {
	if at.IsZero() {
		return timer{}
	}
	return timer{time.NewTimer(max(at.Sub(now), 0))}
}

func (t timer) C() <-chan time.Time {
	if t.t == nil {
		return nil
	}
	return t.t.C
}

func (t timer) Stop() {
	if t.t != nil {
		t.t.Stop()
	}
}
