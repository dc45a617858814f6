package local

import (
	"fmt"
	"os"
	"syscall"

	"github.com/mlportal/mlportal/internal/executor"
)

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
