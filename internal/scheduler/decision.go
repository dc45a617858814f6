package scheduler

import (
	"time"
)

// Decision is what one Schedule call decided. Slices are in the order the
// scheduler decided them; Pending follows the snapshot's order of jobs.
type Decision struct {
	Admit   []Admission
	Preempt []Preemption
	Pending []Pending
	// Teams is each team's use of each GPU type once the admissions and
	// preemptions are applied, in team then GPU type order.
	Teams []TeamUsage
}

// Admission starts a job now.
type Admission struct {
	JobID string
	Team  string
	// Nodes holds one node name per replica.
	Nodes []string
	// Borrowed is how many of the job's GPUs lie beyond the team's nominal
	// quota: those can be reclaimed.
	Borrowed int
}

// PreemptionKind says which rule allowed a preemption.
type PreemptionKind string

const (
	// Reclaim: a team takes back nominal GPUs it lent to the victim's team.
	Reclaim PreemptionKind = "Reclaim"
	// Priority: a job of a higher class stops preemptible work.
	Priority PreemptionKind = "Priority"
)

// Preemption stops a running job to make room for another. The executor
// sends SIGTERM, waits GracePeriod (the job checkpoints to
// MLPORTAL_CHECKPOINT_DIR), then requeues the job to resume from its last
// checkpoint.
type Preemption struct {
	JobID string
	Team  string
	// For is the job the room is made for.
	For     string
	ForTeam string
	Kind    PreemptionKind
	// Reason is a sentence for the victim's owners.
	Reason string
	// GPUs freed, and the work lost since the job's last checkpoint.
	GPUs        int
	LostWork    time.Duration
	GracePeriod time.Duration
}

// Reason is why a job is still pending.
type Reason string

const (
	// ReasonInvalid: the job is malformed (see Detail).
	ReasonInvalid Reason = "Invalid"
	// ReasonUnplaceable: no node of the cluster could ever run it.
	ReasonUnplaceable Reason = "Unplaceable"
	// ReasonNoQuota: the team has no quota for the GPU type.
	ReasonNoQuota Reason = "NoQuota"
	// ReasonQuotaLimit: the team's nominal quota and borrowing limit are used up.
	ReasonQuotaLimit Reason = "QuotaLimit"
	// ReasonNoCapacity: not enough GPUs are free and none can be preempted for it.
	ReasonNoCapacity Reason = "NoCapacity"
	// ReasonFragmented: enough GPUs are free in total, but not on few enough nodes.
	ReasonFragmented Reason = "Fragmented"
	// ReasonReserved: the free GPUs are held for a job that has waited longer.
	ReasonReserved Reason = "Reserved"
	// ReasonPreempting: jobs are being stopped to make room for it.
	ReasonPreempting Reason = "Preempting"
)

// Pending is a job that stays queued, with the facts Explain turns into a
// sentence.
type Pending struct {
	JobID  string
	Team   string
	Reason Reason
	// Detail says what is wrong with an invalid or unplaceable job.
	Detail string

	GPUType    string
	PerReplica int
	Replicas   int
	// The team's use of GPUType, its nominal quota and borrowing limit
	// (Unlimited or a count).
	TeamUsed, TeamNominal, TeamBorrowingLimit int
	// Free GPUs of the type in the cluster and the most free on one node that
	// the job may use, after this cycle's decisions.
	Free, LargestFree int
	// Borrowable is how many idle GPUs of the type the team may still borrow.
	Borrowable int
	// Victims being stopped for this job, and the nodes they free for it
	// (the controller passes them back as Job.NominatedNodes).
	Victims []string
	Nodes   []string
	// Deferred: the job could preempt but waits, since running jobs are
	// estimated to make room within Policy.PreemptWait.
	Deferred bool
	// Reserving: the job has waited Policy.ReserveAfter and the nodes that
	// free up first are held for it.
	Reserving bool
	// ReservedFor is the job holding the free capacity (ReasonReserved).
	ReservedFor string
	// FitsAt is when the job is estimated to fit, from running jobs'
	// estimated ends (zero: unknown).
	FitsAt time.Time
	// Since is the job's submission time.
	Since time.Time
	// Now is the snapshot's time, so Explain can say "in 20m".
	Now time.Time
}

// TeamUsage is a team's use of one GPU type.
type TeamUsage struct {
	Team    string
	GPUType string
	// Used GPUs (running, admitted now, still stopping), of which Borrowed lie
	// beyond Nominal.
	Used, Nominal, BorrowingLimit, Borrowed int
	// Pending GPUs the team's queued jobs ask for.
	Pending int
	// DominantShare is the team's weighted dominant-resource share.
	DominantShare float64
}
