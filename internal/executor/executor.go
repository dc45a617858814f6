// Package executor is the contract between mlportal's GPU scheduler and the
// places jobs run: the local executor (processes on this machine, the
// default) and the Kubernetes executor (a Job per admitted job). The
// scheduler decides; an executor starts, follows, stops and cleans up what
// was decided, and reports the GPU inventory the scheduler decides over.
//
// Every method is idempotent by job id, so a controller that crashes and
// replays its last decisions does no harm: starting a started job is a
// no-op, stopping a finished one too.
package executor

import (
	"context"
	"io"
	"time"

	"github.com/mlportal/mlportal/internal/scheduler"
)

// Spec is an admitted job as an executor runs it.
type Spec struct {
	// JobID is unique; executors name what they create after it.
	JobID   string
	Team    string
	Project string
	// Attempt counts starts of the job (1 first; a preempted job that is
	// requeued runs again with Attempt+1 and resumes from CheckpointDir).
	Attempt int
	// Image is the container image (Kubernetes); the local executor runs
	// Command directly in the project's workspace.
	Image   string
	Command []string
	// Env is added to the job's environment. The controller sets, among
	// others, MLFLOW_TRACKING_URI, MLFLOW_RUN_ID, MLPORTAL_JOB_ID and
	// MLPORTAL_CHECKPOINT_DIR.
	Env map[string]string
	// Workspace is, for the local executor, the directory with the
	// project's code (requirements.txt at its root, if any).
	Workspace string
	// CheckpointDir survives requeues: the job writes checkpoints there and
	// reads the last one on resume. Executors pass it as
	// MLPORTAL_CHECKPOINT_DIR (the Kubernetes executor mounts it).
	CheckpointDir string
	// Per replica.
	GPUs        int
	GPUType     string
	CPUMillis   int64
	MemoryBytes int64
	// Replicas run at once (distributed training); Nodes holds the node the
	// scheduler placed each replica on (len == Replicas).
	Replicas int
	Nodes    []string
	// Timeout bounds the run (0 = none); on expiry the executor stops the
	// job like a cancel and reports PhaseTimedOut.
	Timeout time.Duration
	// Preemptible jobs tolerate spot nodes.
	Preemptible bool
	// Tolerations and NodeSelector come from the placement and the job.
	Tolerations  []scheduler.Toleration
	NodeSelector map[string]string
	// Labels (team, project, cost centre, job) go on everything created.
	Labels map[string]string
}

// Phase is where a job's run stands.
type Phase string

// Phases. Succeeded, Failed, Cancelled, Preempted and TimedOut are final.
const (
	PhasePending   Phase = "Pending" // created, not yet running (pulling, binding)
	PhaseRunning   Phase = "Running"
	PhaseSucceeded Phase = "Succeeded"
	PhaseFailed    Phase = "Failed"
	PhaseCancelled Phase = "Cancelled"
	PhasePreempted Phase = "Preempted" // stopped for another job; requeue to resume
	PhaseTimedOut  Phase = "TimedOut"
)

// Final reports whether the run has ended.
func (p Phase) Final() bool {
	switch p {
	case PhaseSucceeded, PhaseFailed, PhaseCancelled, PhasePreempted, PhaseTimedOut:
		return true
	}
	return false
}

// Status is a job's run as the executor sees it.
type Status struct {
	JobID string
	Phase Phase
	// Message says why, in words for the job's owner (e.g. "exit code 1",
	// "out of memory", "image pull failed: ...").
	Message    string
	ExitCode   int
	StartedAt  time.Time
	FinishedAt time.Time
	Replicas   []ReplicaStatus
}

// ReplicaStatus is one replica's state.
type ReplicaStatus struct {
	Index int
	Node  string
	Phase Phase
	// GPUs are the device indices the replica was given (local executor:
	// its CUDA_VISIBLE_DEVICES).
	GPUs []int
}

// StopReason says why a job is stopped; it decides the final phase.
type StopReason string

// Stop reasons.
const (
	StopCancel  StopReason = "cancel"  // → PhaseCancelled
	StopPreempt StopReason = "preempt" // → PhasePreempted
)

// Executor runs admitted jobs.
type Executor interface {
	// Start launches the job's replicas on the spec's nodes. Starting a job
	// that exists is a no-op (nil).
	Start(ctx context.Context, spec Spec) error
	// Status reports the job's run; fault.ErrNotFound if unknown.
	Status(ctx context.Context, jobID string) (Status, error)
	// Logs writes the job's output (all replicas, each line prefixed by its
	// replica index when there are several) to w; with follow it returns
	// when the job has ended or ctx is done.
	Logs(ctx context.Context, jobID string, follow bool, w io.Writer) error
	// Stop sends the job SIGTERM (so it can write a checkpoint), waits up
	// to grace, then kills the whole process tree / deletes the pods. The
	// final phase follows from reason. Stopping an ended job is a no-op.
	Stop(ctx context.Context, jobID string, reason StopReason, grace time.Duration) error
	// Cleanup removes what Start made once the job's status has been
	// recorded (the workspace's scratch, the Kubernetes Job and pods).
	Cleanup(ctx context.Context, jobID string) error
	// Inventory is the capacity jobs can be placed on.
	Inventory(ctx context.Context) ([]scheduler.Node, error)
}
