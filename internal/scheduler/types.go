package scheduler

import (
	"fmt"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
)

// PriorityClass orders jobs inside a team and says which may preempt which.
// Higher is more important.
type PriorityClass int8

// The priority classes, lowest first.
const (
	PriorityPreemptible PriorityClass = iota
	PriorityBatch
	PriorityProduction
	PriorityInteractive
)

var priorityNames = [...]string{"preemptible", "batch", "production", "interactive"}

func (p PriorityClass) String() string {
	if p < 0 || int(p) >= len(priorityNames) {
		return fmt.Sprintf("priority(%d)", int8(p))
	}
	return priorityNames[p]
}

// ParsePriorityClass reads one of interactive, production, batch, preemptible.
func ParsePriorityClass(s string) (PriorityClass, error) {
	for i, n := range priorityNames {
		if n == s {
			return PriorityClass(i), nil
		}
	}
	return 0, fault.Invalid("unknown priority class", fault.Field("priority", "must be one of interactive, production, batch, preemptible (got %q)", s))
}

// MarshalText writes the class's name.
func (p PriorityClass) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a class's name.
func (p *PriorityClass) UnmarshalText(b []byte) error {
	v, err := ParsePriorityClass(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Pool is the kind of capacity a node belongs to.
type Pool string

// Node pools. Spot nodes are cheaper and may be taken back by the provider;
// only preemptible work goes there unless Policy.NonPreemptibleOnSpot.
const (
	PoolOnDemand Pool = "on-demand"
	PoolSpot     Pool = "spot"
)

// Taint keeps jobs that do not tolerate it off a node (NoSchedule).
type Taint struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// Toleration lets a job onto nodes with a matching taint; an empty Value
// tolerates any value of Key.
type Toleration struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// Job is a request to run Replicas identical replicas at once (a gang), each
// with GPUs GPUs of GPUType, CPU and memory.
type Job struct {
	ID       string
	Team     string
	Project  string
	Priority PriorityClass
	// GPUType names the GPU model (the team quota's key); required when GPUs > 0.
	GPUType string
	// GPUs per replica.
	GPUs int
	// Replicas run together or not at all; 0 means 1.
	Replicas int
	// CPUMillis and MemoryBytes per replica.
	CPUMillis   int64
	MemoryBytes int64
	// GPUMemoryBytes is the least memory each GPU must have (0: any).
	GPUMemoryBytes int64
	// Preemptible jobs may be stopped for any job of a higher priority class.
	Preemptible bool
	// Checkpointable jobs resume from their last checkpoint when requeued.
	Checkpointable bool
	// EstimatedDuration is the submitter's estimate (0: unknown).
	EstimatedDuration time.Duration
	SubmittedAt       time.Time
	// NodeSelector labels a node must carry.
	NodeSelector map[string]string
	Tolerations  []Toleration
	// NominatedNodes are the nodes an earlier decision freed for this job by
	// preemption (Pending.Nodes of ReasonPreempting). Such jobs are served
	// before all others, on those nodes if they still fit, so that the room
	// made for them is not taken by another job.
	NominatedNodes []string
}

// ReplicaCount is Replicas with 0 read as 1.
func (j *Job) ReplicaCount() int {
	if j.Replicas <= 0 {
		return 1
	}
	return j.Replicas
}

// TotalGPUs is GPUs × replicas.
func (j *Job) TotalGPUs() int { return j.GPUs * j.ReplicaCount() }

// IsPreemptible reports whether any higher-priority job may stop this one.
func (j *Job) IsPreemptible() bool { return j.Preemptible || j.Priority == PriorityPreemptible }

// Node is a machine with GPUs of one type.
type Node struct {
	Name    string
	Pool    Pool
	GPUType string
	GPUs    int
	// GPUMemoryBytes is the memory of each GPU.
	GPUMemoryBytes int64
	CPUMillis      int64
	MemoryBytes    int64
	Labels         map[string]string
	Taints         []Taint
	// Unschedulable nodes (cordoned) keep their running work and take no more.
	Unschedulable bool
}

// Unlimited as a BorrowingLimit lets a team borrow all idle GPUs of the type.
const Unlimited = -1

// GPUQuota is a team's guaranteed (nominal) GPUs of one type and how many
// more it may borrow while other teams leave theirs idle.
type GPUQuota struct {
	GPUType        string
	Nominal        int
	BorrowingLimit int
}

// Team is a tenant with quotas and a fair-share weight.
type Team struct {
	Name string
	// Weight scales the team's fair share among borrowers; 0 means 1.
	Weight float64
	Quota  []GPUQuota
}

// Allocation is a job running (or stopping) on nodes.
type Allocation struct {
	Job Job
	// Nodes holds one node name per replica.
	Nodes     []string
	StartedAt time.Time
	// LastCheckpointAt is the time of the job's last checkpoint (zero: none).
	LastCheckpointAt time.Time
	// Terminating allocations were signalled to stop and are in their grace
	// period: they hold their resources but are never chosen as victims again.
	Terminating bool
	// PreemptedFor is the job a terminating allocation makes room for.
	PreemptedFor string
}

// Snapshot is everything Schedule looks at. Schedule never modifies it.
// The order of its slices does not change the decision, but Pending in
// submission order (SubmittedAt, then ID) saves a sort.
type Snapshot struct {
	Now     time.Time
	Nodes   []Node
	Teams   []Team
	Running []Allocation
	Pending []Job
}

// Policy switches and tunes the scheduler's behaviours. The zero Policy is
// strict: hard quotas, no borrowing, no preemption, priority and FIFO order.
type Policy struct {
	// Borrowing lets a team use idle GPUs beyond its nominal quota, up to its
	// borrowing limit.
	Borrowing bool
	// Preemption lets a job within its nominal quota reclaim GPUs lent to
	// other teams, and any job stop preemptible work of a lower class.
	Preemption bool
	// FairSharing serves borrowers in order of weighted dominant-resource
	// share (lowest first); off, borrowers go by priority and submission.
	FairSharing bool
	// NonPreemptibleOnSpot lets jobs that are not preemptible run on spot
	// nodes (after on-demand ones).
	NonPreemptibleOnSpot bool
	// ReserveAfter: a large job (a gang, or more than half a node per
	// replica) that could not start for this long holds the nodes that free
	// up first; other jobs use them only if they are estimated to end before
	// it can start (backfill). 0 never reserves.
	ReserveAfter time.Duration
	// MaxReservations per cycle (0: 1 when ReserveAfter is set).
	MaxReservations int
	// ShortestFirst orders a team's jobs of the same priority class by
	// estimated duration (unknown last) while they have waited less than
	// AgeAfter; jobs that waited longer go first, by submission, so long
	// jobs do not starve.
	ShortestFirst bool
	AgeAfter      time.Duration
	// PreemptWait: a job below the interactive class that running jobs'
	// estimated ends will make room for within this long waits for them
	// instead of preempting (0: always preempt when entitled).
	PreemptWait time.Duration
	// GracePeriod is copied into every Preemption for the executor.
	GracePeriod time.Duration
	// PackingCandidates is how many fitting nodes of the best-fitting size
	// placement compares by estimated end time (0: 8).
	PackingCandidates int
}

// DefaultPolicy is mlportal's scheduler: borrowing, reclaim and
// preemption, weighted fair share among borrowers, shortest estimate first
// inside a team and class until a job has waited six hours, reservations
// for large jobs waiting six hours, and no preemption when running jobs are
// estimated to make room within 30 minutes (interactive jobs excepted).
// The values were chosen by replaying synthetic traces (docs/scheduler.md).
func DefaultPolicy() Policy {
	return Policy{
		Borrowing:         true,
		Preemption:        true,
		FairSharing:       true,
		ReserveAfter:      6 * time.Hour,
		MaxReservations:   4,
		ShortestFirst:     true,
		AgeAfter:          6 * time.Hour,
		PreemptWait:       30 * time.Minute,
		GracePeriod:       30 * time.Second,
		PackingCandidates: 8,
	}
}
