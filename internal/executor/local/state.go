package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
)

// stateVersion is the layout of state.json; a newer one is refused.
const stateVersion = 1

// Stop reasons beyond executor.StopReason: the executor's own.
const (
	stopTimeout = "timeout" // → PhaseTimedOut
	stopFailed  = "failed"  // a replica failed; the others are stopped → PhaseFailed
)

// jobState is what the executor persists for a job's current attempt, in
// <dir>/jobs/<id>/state.json (written atomically, mode 0600: Spec.Env may
// hold secrets). A new Executor over the same directory rebuilds itself from
// these files.
type jobState struct {
	Version int           `json:"version"`
	Spec    executor.Spec `json:"spec"`
	Attempt int           `json:"attempt"`
	Phase   executor.Phase
	Message string
	// ExitCode is the first failing replica's exit status (0 when all
	// succeeded, -1 when unknown: killed while no executor was watching).
	ExitCode   int
	CreatedAt  time.Time
	StartedAt  time.Time `json:",omitzero"`
	FinishedAt time.Time `json:",omitzero"`
	// Deadline is StartedAt+Timeout (zero: none).
	Deadline time.Time `json:",omitzero"`
	Node     string
	// CheckpointDir is the resolved MLPORTAL_CHECKPOINT_DIR; OwnCheckpoint
	// says the executor made it (and removes it on Cleanup unless the job
	// was preempted).
	CheckpointDir string
	OwnCheckpoint bool   `json:",omitempty"`
	Venv          string `json:",omitempty"`
	MasterPort    int    `json:",omitempty"`
	// PGID is the job's process group (replica 0's wrapper is its leader);
	// LeaderStart is that wrapper's start time in clock ticks since boot,
	// which tells it apart from a later process that reuses the pid.
	PGID        int    `json:",omitempty"`
	LeaderStart uint64 `json:",omitempty"`
	Replicas    []replicaState
	Stop        *stopState `json:",omitempty"`
}

// replicaState is one replica's process.
type replicaState struct {
	Index int
	GPUs  []int `json:",omitempty"`
	PID   int   `json:",omitempty"`
	// Start is the wrapper's start time in clock ticks since boot.
	Start    uint64 `json:",omitempty"`
	Exited   bool   `json:",omitempty"`
	ExitCode int    `json:",omitempty"`
}

// stopState is a stop in progress or done.
type stopState struct {
	Reason      string // cancel, preempt, timeout, failed
	RequestedAt time.Time
	// KillAt is when SIGKILL goes to the group if the job has not ended.
	KillAt time.Time
	Killed bool `json:",omitempty"`
}

var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// paths lays out the executor's directory.
type paths struct{ root string }

func (p paths) jobs() string                { return filepath.Join(p.root, "jobs") }
func (p paths) job(id string) string        { return filepath.Join(p.root, "jobs", id) }
func (p paths) state(id string) string      { return filepath.Join(p.job(id), "state.json") }
func (p paths) checkpoint(id string) string { return filepath.Join(p.root, "checkpoints", id) }
func (p paths) attempt(id string, n int) string {
	return filepath.Join(p.job(id), "attempt-"+strconv.Itoa(n))
}
func (p paths) runDir(id string, n int) string { return filepath.Join(p.attempt(id, n), "run") }
func (p paths) log(id string, n, replica int) string {
	return filepath.Join(p.attempt(id, n), fmt.Sprintf("replica-%d.log", replica))
}
func (p paths) exitFile(id string, n, replica int) string {
	return filepath.Join(p.attempt(id, n), fmt.Sprintf("replica-%d.exit", replica))
}
func (p paths) pidFile(id string, n, replica int) string {
	return filepath.Join(p.attempt(id, n), fmt.Sprintf("replica-%d.pid", replica))
}

// saveState writes st atomically: a temporary file, fsync, rename.
func saveState(path string, st *jobState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode job state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save job state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*.json")
	if err != nil {
		return fmt.Errorf("save job state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save job state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save job state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save job state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save job state: %w", err)
	}
	return nil
}

// loadState reads a job's state; fs.ErrNotExist when there is none.
func loadState(path string) (*jobState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st jobState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("read %s: %w (move the job's directory aside to let the executor start)", path, err)
	}
	if st.Version > stateVersion {
		return nil, fmt.Errorf("read %s: state version %d is newer than this mlportal understands (%d); upgrade mlportal", path, st.Version, stateVersion)
	}
	return &st, nil
}

// readExitFile reads the status the wrapper wrote; ok is false until the
// file is complete (it ends in a newline).
func readExitFile(path string) (code int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[:len(b)-1]))
	if err != nil {
		return 0, false
	}
	return n, true
}

// readPIDFile reads the pid the wrapper wrote before running the command.
func readPIDFile(path string) (int, bool) {
	code, ok := readExitFile(path)
	return code, ok && code > 0
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
