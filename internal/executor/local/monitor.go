package local

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
)

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
