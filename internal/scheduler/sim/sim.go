// Package sim replays a GPU-cluster trace on a virtual clock, twice: through
// mlportal's real scheduler (package scheduler's Schedule, called after every
// event as a controller would) and through a FIFO + first-fit baseline that
// models what a namespace ResourceQuota and the default kube-scheduler give
// (hard per-team quotas counted on created pods, no borrowing, no
// preemption, no gang admission, each pod on the first node that fits). It
// reports, for each, GPU utilisation, the GPU-hours and cost lost to idle or
// stranded GPUs, job completion and queueing times, fairness across teams,
// preemptions and the cost of the GPU-hours run.
//
// The simulation is deterministic and does no I/O. It models GPUs, not
// networks or storage: a job runs for its trace duration once all its
// replicas hold their GPUs, a preempted job stops after the grace period
// and loses the work since its last periodic checkpoint (all of it when it
// cannot checkpoint), and nodes never fail.
package sim

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/scheduler/trace"
)

// ClusterConfig describes the simulated cluster.
type ClusterConfig struct {
	Nodes       int
	GPUsPerNode int
	// GPUTypes share the nodes evenly (default a100).
	GPUTypes []string
	// SpotFraction of each type's nodes are spot capacity.
	SpotFraction float64
}

// Cluster is the simulated cluster: its nodes and the teams' quotas.
type Cluster struct {
	Nodes []scheduler.Node
	Teams []scheduler.Team
}

// NewCluster builds the nodes and gives every team of the trace a nominal
// quota of each GPU type in proportion to the GPU-hours it asks for (what a
// platform team would set from last quarter's usage), at least its largest
// job so that every job can run under a hard quota, with unlimited
// borrowing.
func NewCluster(cfg ClusterConfig, jobs []trace.Job) (Cluster, error) {
	if len(cfg.GPUTypes) == 0 {
		cfg.GPUTypes = []string{"a100"}
	}
	var errs []fault.FieldError
	if cfg.Nodes < len(cfg.GPUTypes) || cfg.Nodes > 100000 {
		errs = append(errs, fault.Field("nodes", "must be at least one per GPU type and at most 100000 (got %d)", cfg.Nodes))
	}
	if cfg.GPUsPerNode < 1 || cfg.GPUsPerNode > 64 {
		errs = append(errs, fault.Field("gpusPerNode", "must be 1-64 (got %d)", cfg.GPUsPerNode))
	}
	if cfg.SpotFraction < 0 || cfg.SpotFraction > 1 {
		errs = append(errs, fault.Field("spotFraction", "must be 0-1 (got %g)", cfg.SpotFraction))
	}
	if len(errs) > 0 {
		return Cluster{}, fault.Invalid("the simulated cluster is out of range", errs...)
	}
	var c Cluster
	capacity := map[string]int{}
	for ti, typ := range cfg.GPUTypes {
		n := cfg.Nodes / len(cfg.GPUTypes)
		if ti < cfg.Nodes%len(cfg.GPUTypes) {
			n++
		}
		spot := int(math.Round(float64(n) * cfg.SpotFraction))
		for i := range n {
			pool, prefix := scheduler.PoolOnDemand, "od"
			if i >= n-spot {
				pool, prefix = scheduler.PoolSpot, "spot"
			}
			c.Nodes = append(c.Nodes, scheduler.Node{Name: fmt.Sprintf("%s-%s-%04d", typ, prefix, i), Pool: pool, GPUType: typ, GPUs: cfg.GPUsPerNode,
				GPUMemoryBytes: 80 << 30, CPUMillis: int64(cfg.GPUsPerNode) * 12000, MemoryBytes: int64(cfg.GPUsPerNode) * 128 << 30})
		}
		capacity[typ] = n * cfg.GPUsPerNode
	}
	for _, j := range jobs {
		if j.GPUs <= 0 {
			return Cluster{}, fault.Invalid(fmt.Sprintf("job %s asks for no GPUs; the simulator replays GPU jobs only", j.ID), fault.Field("gpus", "must be 1 or more"))
		}
		if _, ok := capacity[j.GPUType]; !ok {
			return Cluster{}, fault.Invalid(fmt.Sprintf("job %s asks for %s GPUs but the simulated cluster has %v", j.ID, j.GPUType, cfg.GPUTypes),
				fault.Field("gpuTypes", "list every GPU type of the trace"))
		}
		if j.GPUs > cfg.GPUsPerNode {
			return Cluster{}, fault.Invalid(fmt.Sprintf("job %s asks for %d GPUs per replica but nodes have %d", j.ID, j.GPUs, cfg.GPUsPerNode),
				fault.Field("gpusPerNode", "must be at least the largest replica of the trace"))
		}
	}
	c.Teams = demandQuotas(jobs, cfg.GPUTypes, capacity)
	return c, nil
}

// demandQuotas splits each type's capacity among teams by demanded
// GPU-hours (largest remainder), then raises each to the team's largest job.
func demandQuotas(jobs []trace.Job, types []string, capacity map[string]int) []scheduler.Team {
	demand := map[string]map[string]float64{}
	largest := map[string]map[string]int{}
	var names []string
	for _, j := range jobs {
		if demand[j.Team] == nil {
			demand[j.Team], largest[j.Team] = map[string]float64{}, map[string]int{}
			names = append(names, j.Team)
		}
		demand[j.Team][j.GPUType] += float64(j.TotalGPUs()) * j.Duration
		largest[j.Team][j.GPUType] = max(largest[j.Team][j.GPUType], j.TotalGPUs())
	}
	slices.Sort(names)
	teams := make([]scheduler.Team, len(names))
	for i, n := range names {
		teams[i] = scheduler.Team{Name: n, Weight: 1}
	}
	for _, typ := range types {
		var total float64
		for _, n := range names {
			total += demand[n][typ]
		}
		type share struct {
			i    int
			base int
			frac float64
		}
		shares := make([]share, len(names))
		given := 0
		for i, n := range names {
			exact := 0.0
			if total > 0 {
				exact = float64(capacity[typ]) * demand[n][typ] / total
			}
			shares[i] = share{i, int(exact), exact - math.Floor(exact)}
			given += int(exact)
		}
		slices.SortStableFunc(shares, func(a, b share) int {
			switch {
			case a.frac > b.frac:
				return -1
			case a.frac < b.frac:
				return 1
			}
			return 0
		})
		for k := 0; k < capacity[typ]-given && k < len(shares); k++ {
			shares[k].base++
		}
		for _, s := range shares {
			nominal := max(s.base, largest[names[s.i]][typ])
			if nominal > 0 {
				teams[s.i].Quota = append(teams[s.i].Quota, scheduler.GPUQuota{GPUType: typ, Nominal: nominal, BorrowingLimit: scheduler.Unlimited})
			}
		}
	}
	return teams
}

// Options tune a replay.
type Options struct {
	// Policy is mlportal's scheduler policy (default scheduler.DefaultPolicy()).
	Policy *scheduler.Policy
	// CheckpointInterval of checkpointable jobs (default 30m).
	CheckpointInterval time.Duration
	// GracePeriod a preempted job takes to stop (default the policy's).
	GracePeriod time.Duration
	// Prices per GPU-hour of each type on demand (default 2.5 for any
	// type); spot costs SpotPriceFactor of that (default 0.4).
	Prices          map[string]float64
	SpotPriceFactor float64
	// Start is the virtual clock's start (default Monday 2026-01-05 00:00 UTC).
	Start time.Time
	// MaxDuration stops a replay whose jobs cannot all finish (default the
	// trace's span plus 60 days).
	MaxDuration time.Duration
}

func (o Options) withDefaults() Options {
	if o.Policy == nil {
		p := scheduler.DefaultPolicy()
		o.Policy = &p
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 30 * time.Minute
	}
	if o.GracePeriod <= 0 {
		o.GracePeriod = o.Policy.GracePeriod
	}
	if o.SpotPriceFactor <= 0 {
		o.SpotPriceFactor = 0.4
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	return o
}

func (o Options) price(typ string, pool scheduler.Pool) float64 {
	p, ok := o.Prices[typ]
	if !ok {
		p = 2.5
	}
	if pool == scheduler.PoolSpot {
		p *= o.SpotPriceFactor
	}
	return p
}

// Result is what one replay measured. Times are in hours.
type Result struct {
	Policy    string `json:"policy"`
	Jobs      int    `json:"jobs"`
	Completed int    `json:"completed"`
	// MakespanHours runs from the first submission to the last completion.
	MakespanHours float64 `json:"makespanHours"`
	// Utilisation is the share of GPU-hours held by running jobs while jobs
	// arrive (first to last submission).
	Utilisation float64 `json:"utilisation"`
	// GPU-hours: held by running jobs, idle while jobs of their GPU type
	// waited, held by replicas waiting for the rest of their gang
	// (stranded), and run then lost to preemption.
	BusyGPUHours     float64 `json:"busyGpuHours"`
	IdleGPUHours     float64 `json:"idleWhileWaitingGpuHours"`
	StrandedGPUHours float64 `json:"strandedGpuHours"`
	LostGPUHours     float64 `json:"preemptionLostGpuHours"`
	// Costs of those GPU-hours at the given prices; WastedCost is idle +
	// stranded + lost.
	BusyCost     float64 `json:"busyCost"`
	IdleCost     float64 `json:"idleCost"`
	StrandedCost float64 `json:"strandedCost"`
	LostCost     float64 `json:"preemptionLostCost"`
	WastedCost   float64 `json:"wastedCost"`
	// Job completion time (submission to end) and time spent queued.
	MeanJCTHours      float64 `json:"meanJctHours"`
	P95JCTHours       float64 `json:"p95JctHours"`
	MeanQueueingHours float64 `json:"meanQueueingHours"`
	// Fairness is Jain's index over teams of GPU-hours received divided by
	// their weighted max-min fair share of the cluster while they had work.
	Fairness    float64      `json:"fairness"`
	Preemptions int          `json:"preemptions"`
	Teams       []TeamResult `json:"teams"`
}

// TeamResult is one team's outcome.
type TeamResult struct {
	Team         string  `json:"team"`
	Jobs         int     `json:"jobs"`
	GPUHours     float64 `json:"gpuHours"`
	Share        float64 `json:"normalisedShare"`
	MeanJCTHours float64 `json:"meanJctHours"`
}

// Comparison is the same trace replayed both ways.
type Comparison struct {
	Jobs        int     `json:"jobs"`
	Teams       int     `json:"teams"`
	Nodes       int     `json:"nodes"`
	GPUs        int     `json:"gpus"`
	SpotGPUs    int     `json:"spotGpus"`
	SpanHours   float64 `json:"spanHours"`
	OfferedLoad float64 `json:"offeredLoad"`
	MLPortal    Result  `json:"mlportal"`
	Baseline    Result  `json:"baseline"`
}

// Compare replays jobs on the cluster through mlportal's scheduler and the
// baseline, concurrently.
func Compare(ctx context.Context, jobs []trace.Job, c Cluster, opt Options) (Comparison, error) {
	if len(jobs) == 0 {
		return Comparison{}, fault.Invalid("the trace has no jobs", fault.Field("trace", "generate one (--jobs) or pass a JSON Lines file"))
	}
	cmp := Comparison{Jobs: len(jobs), Nodes: len(c.Nodes), Teams: len(c.Teams)}
	var demand, span float64
	for _, j := range jobs {
		demand += float64(j.TotalGPUs()) * j.Duration
		span = max(span, j.Submit)
	}
	for _, n := range c.Nodes {
		cmp.GPUs += n.GPUs
		if n.Pool == scheduler.PoolSpot {
			cmp.SpotGPUs += n.GPUs
		}
	}
	cmp.SpanHours = span / 3600
	if span > 0 && cmp.GPUs > 0 {
		cmp.OfferedLoad = demand / (span * float64(cmp.GPUs))
	}
	type out struct {
		r   Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		r, err := Run(ctx, jobs, c, opt, Baseline)
		ch <- out{r, err}
	}()
	var err error
	cmp.MLPortal, err = Run(ctx, jobs, c, opt, MLPortal)
	b := <-ch
	if err != nil {
		return Comparison{}, err
	}
	if b.err != nil {
		return Comparison{}, b.err
	}
	cmp.Baseline = b.r
	return cmp, nil
}

// PolicyKind picks the scheduler a replay goes through.
type PolicyKind string

// The two schedulers.
const (
	MLPortal PolicyKind = "mlportal"
	Baseline PolicyKind = "fifo-first-fit"
)

// Run replays jobs on the cluster through one scheduler.
func Run(ctx context.Context, jobs []trace.Job, c Cluster, opt Options, kind PolicyKind) (Result, error) {
	opt = opt.withDefaults()
	e, err := newEngine(jobs, c, opt)
	if err != nil {
		return Result{}, err
	}
	var step func(*engine)
	switch kind {
	case MLPortal:
		step = newMLPortal(e).step
	case Baseline:
		step = newBaseline(e).step
	default:
		return Result{}, fault.Invalid(fmt.Sprintf("unknown policy %q", kind), fault.Field("policy", "must be %s or %s", MLPortal, Baseline))
	}
	if err := e.run(ctx, step); err != nil {
		return Result{}, err
	}
	r := e.result()
	r.Policy = string(kind)
	return r, nil
}
