package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// wrapperScript runs one replica. It is the only process the executor
// starts directly; its arguments are the pid file, the exit file and the
// job's command.
//
// It writes its pid (which is also the replica's process group for replica
// 0), runs the command in the foreground and writes the command's exit
// status, newline-terminated, to the exit file. The TERM and INT traps are
// handlers, not "ignore": a shell defers a trapped signal until its
// foreground command ends, so the wrapper survives the SIGTERM sent to the
// group long enough to record the status, while the command sees SIGTERM
// with its default disposition (handlers are reset on exec; ignored signals
// would be inherited). The status file, not the wrapper's own exit, is the
// record: it outlives the server, so a new executor learns how a job ended
// while it was down. Only SIGKILL leaves no status (the executor then knows
// it killed the job).
const wrapperScript = `pidfile=$1 exitfile=$2
shift 2
echo $$ >"$pidfile"
trap : TERM INT
"$@"
code=$?
echo "$code" >"$exitfile"
exit "$code"`

// wrapperArgs is the argv that runs command under the wrapper.
func wrapperArgs(jobID, pidFile, exitFile string, command []string) []string {
	return append([]string{"sh", "-c", wrapperScript, "mlportal-job-" + jobID, pidFile, exitFile}, command...)
}

// procStat is what /proc/<pid>/stat says of a process.
type procStat struct {
	State byte
	PGRP  int
	// Start is the start time in clock ticks since boot: with the pid it
	// identifies a process across pid reuse.
	Start uint64
}

// readProcStat reads /proc/<pid>/stat.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// parseProcStat parses the fields after the command name, which may itself
// contain spaces and parentheses.
func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); pgrp is field 5, starttime field 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat: pgrp: %w", err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat: starttime: %w", err)
	}
	return procStat{State: f[0][0], PGRP: pgrp, Start: start}, nil
}

// running reports whether pid is still the process that started at start
// and has not exited. A zombie has exited (this machine's init may never
// reap orphans).
func running(pid int, start uint64) bool {
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	return st.Start == start && st.State != 'Z' && st.State != 'X'
}

// gone reports whether pid has exited: no such process, or a zombie.
func gone(pid int) bool {
	st, err := readProcStat(pid)
	return err != nil || st.State == 'Z' || st.State == 'X'
}

// groupMembers lists the live (non-zombie) processes of process group pgid.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.PGRP != pgid || st.State == 'Z' || st.State == 'X' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// environHas reports whether pid's environment holds kv ("NAME=value").
func environHas(pid int, kv string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, e := range bytes.Split(b, []byte{0}) {
		if string(e) == kv {
			return true
		}
	}
	return false
}

// signalGroup sends sig to the job's process group if it is still the job's
// and reports how many live processes it had. The group is the job's when
// its leader (replica 0's wrapper) is alive with the recorded start time, or
// when the leader has exited and a member carries the job's
// MLPORTAL_JOB_ID and MLPORTAL_ATTEMPT. Other groups with the same number
// (a reused pid) are left alone.
func signalGroup(pgid int, leaderStart uint64, jobID string, attempt int, sig syscall.Signal) (int, error) {
	if pgid <= 1 {
		return 0, nil
	}
	members := groupMembers(pgid)
	if len(members) == 0 {
		return 0, nil
	}
	ours := false
	leaderPresent := false
	for _, pid := range members {
		if pid == pgid {
			leaderPresent = true
			st, err := readProcStat(pid)
			ours = err == nil && st.Start == leaderStart
		}
	}
	if !leaderPresent {
		id, att := envJobID+"="+jobID, envAttempt+"="+strconv.Itoa(attempt)
		for _, pid := range members {
			if environHas(pid, id) && environHas(pid, att) {
				ours = true
				break
			}
		}
	}
	if !ours {
		return 0, nil
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return len(members), fmt.Errorf("signal process group %d: %w", pgid, err)
	}
	return len(members), nil
}

// describeExit says what an exit status means, for the job's owner.
func describeExit(code int) string {
	switch {
	case code == 0:
		return "exit code 0"
	case code < 0:
		return "ended without an exit status (killed while the server was down)"
	case code == 126:
		return "exit code 126 (the command is not executable: check its permissions)"
	case code == 127:
		return "exit code 127 (command not found: check the job's command and that the program is installed in the project's environment)"
	case code == 137:
		return "exit code 137 (killed by SIGKILL: out of memory, or stopped after the grace period)"
	case code > 128 && code < 128+65:
		return fmt.Sprintf("exit code %d (killed by signal %d, %v)", code, code-128, syscall.Signal(code-128))
	default:
		return fmt.Sprintf("exit code %d", code)
	}
}
