package local

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

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
