package jobs

import (
	"context"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/scheduler"
)

// State is where a job stands.
type State string

// Job states. Succeeded, Failed, Cancelled and TimedOut are final.
const (
	StateQueued    State = "queued"   // waiting for the scheduler; Reason says why
	StateStarting  State = "starting" // admitted; the executor is starting it
	StateRunning   State = "running"
	StateStopping  State = "stopping" // cancelled or preempted; in its grace period
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
	StateTimedOut  State = "timed-out"
)

// Final reports whether the job has ended for good.
func (s State) Final() bool {
	switch s {
	case StateSucceeded, StateFailed, StateCancelled, StateTimedOut:
		return true
	}
	return false
}

// Holds reports whether a job in this state holds GPUs.
func (s State) Holds() bool { return s == StateStarting || s == StateRunning || s == StateStopping }

// States lists every state, in lifecycle order.
var States = []State{StateQueued, StateStarting, StateRunning, StateStopping, StateSucceeded, StateFailed, StateCancelled, StateTimedOut}

// Job is a training or batch job and where it stands.
type Job struct {
	ID      string
	Team    string
	Project string
	Name    string
	// Template and TemplateVersion are the project's lifecycle template the
	// defaults came from.
	Template, TemplateVersion string
	Priority                  scheduler.PriorityClass
	Image                     string
	Command                   []string
	Env                       map[string]string
	// Per replica. GPUType is a concrete type once admitted; "any" before.
	GPUs        int
	GPUType     string
	CPUMillis   int64
	MemoryBytes int64
	Replicas    int
	Timeout     time.Duration
	// Retries is how many failed attempts are run again.
	Retries     int
	Preemptible bool
	// EstimatedDuration helps the scheduler pack (0: unknown).
	EstimatedDuration time.Duration
	// Outputs are artifact paths the job writes (recorded on its run).
	Outputs []string
	// Ref is the revision of the project's repository the job runs
	// ("" = the default branch's head).
	Ref string

	State State
	// Reason says why the job waits (the scheduler's explanation) or how it
	// ended, in words for its owner.
	Reason string
	// Attempt counts starts; Failures failed attempts; Preemptions stops
	// for other jobs.
	Attempt, Failures, Preemptions int
	// StartErrors counts the starts in a row that the cluster refused for
	// a passing reason (unavailable, the namespace's quota momentarily
	// full): they do not use up Retries, but the job waits until NotBefore,
	// longer each time, before the scheduler considers it again.
	StartErrors int
	NotBefore   time.Time
	// Nodes holds the current attempt's node per replica.
	Nodes []string
	// NominatedNodes were freed for the job by preemption.
	NominatedNodes []string
	// StopReason is set while stopping.
	StopReason executor.StopReason
	ExitCode   int
	// The job's MLflow run (created when it is first admitted).
	ExperimentID, RunID, ArtifactURI string
	// GPUSeconds sums every attempt's GPUs × wall time (cost accounting).
	GPUSeconds float64
	// Cost sums every attempt's price (ControllerConfig.Pricer); Pool is
	// the node pool of the current or last attempt, which prices it.
	Cost float64
	Pool string

	SubmittedAt time.Time
	StartedAt   time.Time // the current or last attempt
	FinishedAt  time.Time
	CreatedBy   string
	UpdatedAt   time.Time
	// Version increases on every change.
	Version int64
}

// TotalGPUs is GPUs × replicas.
func (j Job) TotalGPUs() int { return j.GPUs * max(j.Replicas, 1) }

// Clone returns a deep copy.
func (j Job) Clone() Job {
	j.Command = append([]string(nil), j.Command...)
	j.Outputs = append([]string(nil), j.Outputs...)
	j.Nodes = append([]string(nil), j.Nodes...)
	j.NominatedNodes = append([]string(nil), j.NominatedNodes...)
	if j.Env != nil {
		env := make(map[string]string, len(j.Env))
		for k, v := range j.Env {
			env[k] = v
		}
		j.Env = env
	}
	return j
}

// Filter selects jobs in a list.
type Filter struct {
	Team, Project string
	States        []State // none = all
}

// Repository persists jobs. UpdateJob fails with
// fault.ErrPreconditionFailed when the stored version is not ifVersion.
type Repository interface {
	CreateJob(ctx context.Context, j Job) error
	GetJob(ctx context.Context, id string) (Job, error)
	ListJobs(ctx context.Context, f Filter, after string, limit int) ([]Job, error)
	// ListActiveJobs returns every job that is not final.
	ListActiveJobs(ctx context.Context) ([]Job, error)
	// ActiveJobVersions returns the id and version of every job that is
	// not final: what a cycle compares with the jobs it knows.
	ActiveJobVersions(ctx context.Context) (map[string]int64, error)
	// GetJobs returns the jobs with the given ids that exist, in no
	// particular order.
	GetJobs(ctx context.Context, ids []string) ([]Job, error)
	UpdateJob(ctx context.Context, j Job, ifVersion int64) error
	// UpdateJobs records many updates in one transaction: recorded[i]
	// says whether ups[i] was (false: the stored job's version was no
	// longer IfVersion). A scheduling cycle saves its admissions and
	// explanations this way, one commit for thousands of jobs.
	UpdateJobs(ctx context.Context, ups []Update) (recorded []bool, err error)
}

// Update is a job to record if the stored one is still at IfVersion.
type Update struct {
	Job       Job
	IfVersion int64
}
