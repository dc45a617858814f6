package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/team"
)

// AllTeams lists every team (their GPU quotas feed the scheduler).
type AllTeams interface {
	AllTeams(ctx context.Context) ([]team.Team, error)
}

// Runs creates the MLflow run a job logs to, so that the job → run → model
// lineage needs no user code, and ends it with the job.
type Runs interface {
	// StartRun creates (or, for the same job, returns) the job's run.
	StartRun(ctx context.Context, j Job) (RunRef, error)
	// EndRun marks the run FINISHED, FAILED or KILLED after the job's state.
	EndRun(ctx context.Context, j Job) error
}

// BatchRuns creates the runs of many jobs at once; a Runs may offer it.
// The controller uses it for the jobs a cycle admits, which then start
// without a database write of their own for the run.
type BatchRuns interface {
	// StartRuns creates a run for each job (none has one yet): refs[i]
	// is js[i]'s.
	StartRuns(ctx context.Context, js []Job) (refs []RunRef, err error)
}

// RunRef names a job's MLflow run.
type RunRef struct {
	ExperimentID, ExperimentName, RunID, ArtifactURI string
}

// Credentials issues the token a job calls mlportal (and MLflow) with,
// scoped to its team, valid for ttl.
type Credentials interface {
	JobToken(ctx context.Context, j Job, ttl time.Duration) (string, error)
}

// BatchCredentials issues many jobs' tokens at once; a Credentials may
// offer it. The controller uses it for the jobs a cycle admitted, which
// then start without a database write of their own: toks[i] is js[i]'s,
// valid for ttls[i].
type BatchCredentials interface {
	JobTokens(ctx context.Context, js []Job, ttls []time.Duration) (toks []string, err error)
}

// Workspaces prepares the directory with the project's code a job runs
// in (the local executor), once per job, and removes it when the job has
// ended.
type Workspaces interface {
	Prepare(ctx context.Context, j Job) (string, error)
	Release(ctx context.Context, jobID string) error
}

// LogArchive keeps each attempt's output after the executor has cleaned
// up (a Kubernetes pod's logs go with the pod).
type LogArchive interface {
	Save(ctx context.Context, jobID string, attempt int, r io.Reader) error
	// Open returns every archived attempt's output, oldest first;
	// fault.ErrNotFound when none was archived.
	Open(ctx context.Context, jobID string) (io.ReadCloser, error)
}

// Leases keeps one controller active among replicas.
type Leases interface {
	Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error)
}

// Pricer prices an attempt that held j's resources for d on nodes of
// j.Pool (cost accounting).
type Pricer interface {
	AttemptCost(j Job, d time.Duration) float64
}

// ControllerConfig are the controller's collaborators and settings.
type ControllerConfig struct {
	Repo     Repository
	Teams    AllTeams
	Executor executor.Executor
	Runs     Runs        // optional
	Tokens   Credentials // optional
	Spaces   Workspaces  // optional
	Leases   Leases      // optional: without it this process always leads
	Logs     LogArchive  // optional: without it output ends with the attempt
	Pricer   Pricer      // optional: without it jobs cost nothing
	Clock    clock.Clock
	Log      *slog.Logger
	Policy   scheduler.Policy
	// Owner names this replica in the lease ("" = random).
	Owner string
	// TrackingURI is what jobs get as MLFLOW_TRACKING_URI and MLPORTAL_URL.
	TrackingURI string
	// CheckpointRoot holds one checkpoint directory per job.
	CheckpointRoot string
	// Interval between cycles when nothing wakes the controller (0 = 1s).
	Interval time.Duration
	// InventoryTTL is how long an inventory is reused (0 = 10s).
	InventoryTTL time.Duration
	// Workers bounds the starts and stops run at once in the background
	// (0 = 128): each holds an executor call and, briefly, a database
	// connection.
	Workers int
}

// LeaseName is the scheduler's lease in the store.
const LeaseName = "scheduler"

// Controller applies the scheduler's decisions. Run it with Run; Wake
// makes it run a cycle now.
type Controller struct {
	cfg  ControllerConfig
	wake chan struct{}

	mu       sync.Mutex
	inflight map[string]bool // job → a Start or Stop is queued or under way
	tasks    []task          // queued starts and stops, oldest first
	releases []task          // queued clean-ups of ended attempts, run when no start or stop waits
	workers  int             // running workers, at most cfg.Workers
	wg       sync.WaitGroup

	inv   []scheduler.Node
	invAt time.Time

	known   map[string]Job // the active jobs as last read, by id (Cycle's goroutine only)
	knownAt time.Time      // when they were last read in full

	// preemptedFor maps a job this controller preempted, while it stops,
	// to the job it makes room for (Cycle's goroutine only): the scheduler
	// then waits for it rather than preempting more for the same job. A
	// new leader does not know it for the jobs stopping when it took over.
	preemptedFor map[string]string
}

var _ Waker = (*Controller)(nil)

// NewController returns a controller; it does nothing until Run.
func NewController(cfg ControllerConfig) *Controller {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.InventoryTTL <= 0 {
		cfg.InventoryTTL = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 128
	}
	if cfg.Owner == "" {
		cfg.Owner = NewID()
	}
	return &Controller{cfg: cfg, wake: make(chan struct{}, 1), inflight: map[string]bool{}}
}

// Wake asks for a cycle as soon as possible.
func (c *Controller) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run runs cycles until ctx ends, then waits for the starts and stops it
// began.
func (c *Controller) Run(ctx context.Context) {
	defer c.wg.Wait()
	t := time.NewTicker(c.cfg.Interval) // cadence only; decisions use the injected clock
	defer t.Stop()
	for {
		if err := c.Cycle(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Log.Warn("scheduler cycle", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.wake:
		}
	}
}

// Cycle is one pass: follow running jobs, decide, apply. It does nothing
// unless this replica holds the scheduler's lease.
func (c *Controller) Cycle(ctx context.Context) error {
	now := c.cfg.Clock.Now().UTC()
	if c.cfg.Leases != nil {
		ok, err := c.cfg.Leases.Lease(ctx, LeaseName, c.cfg.Owner, now, now.Add(10*c.cfg.Interval+5*time.Second))
		if err != nil || !ok {
			return err
		}
	}
	t := cycleTimer{clock: c.cfg.Clock, last: now}
	active, err := c.activeJobs(ctx, now)
	if err != nil {
		return fmt.Errorf("list active jobs: %w", err)
	}
	t.lap("read")
	// What changed is saved together at the end of the cycle, one
	// transaction for thousands of jobs: followed runs, admissions,
	// explanations.
	var changes []change
	for i := range active {
		if active[i].State.Holds() && !c.busy(active[i].ID) {
			if next, ok := c.follow(ctx, active[i]); ok {
				changes = append(changes, change{cur: active[i], next: next})
				active[i] = next
			}
		}
	}
	t.lap("follow")
	snap, err := c.snapshot(ctx, now, active)
	if err != nil {
		return err
	}
	d := scheduler.Schedule(snap, c.cfg.Policy)
	t.lap("decide")
	byID := make(map[string]*Job, len(active))
	for i := range active {
		byID[active[i].ID] = &active[i]
	}
	for _, p := range d.Preempt {
		if j := byID[p.JobID]; j != nil {
			c.preempt(ctx, *j, p)
		}
	}
	for _, a := range d.Admit {
		if j := byID[a.JobID]; j != nil {
			changes = append(changes, change{cur: *j, next: c.admission(*j, a, snap), admitted: true})
		}
	}
	for _, p := range d.Pending {
		if j := byID[p.JobID]; j != nil {
			if next, ok := explanation(*j, p); ok {
				changes = append(changes, change{cur: *j, next: next})
			}
		}
	}
	// Then the admitted jobs start, a batch at a time: the first starts
	// run while the next batch's runs are made.
	saved := c.saveAll(ctx, changes)
	t.lap("save")
	for batch := range slices.Chunk(saved, saveBatch) {
		for _, a := range c.withTokens(ctx, c.withRuns(ctx, batch)) {
			c.asyncStart(a)
		}
	}
	t.lap("prepare starts")
	// Jobs stopping at a user's request.
	for _, j := range active {
		if j.State == StateStopping && j.StopReason == executor.StopCancel && !c.busy(j.ID) {
			c.stop(j, executor.StopCancel, c.cfg.Policy.GracePeriod)
		}
	}
	level := slog.LevelDebug
	if t.total(now) >= slowCycle {
		level = slog.LevelInfo
	}
	c.cfg.Log.Log(ctx, level, "scheduler cycle", "active", len(active), "admitted", len(d.Admit), "pending", len(d.Pending),
		"preempted", len(d.Preempt), "saved", len(saved), "took", t.total(now).Round(time.Millisecond), "phases", t.String())
	return nil
}

// slowCycle is how long a cycle takes before its log line is at info
// level: the phases say where a slow scheduler spends its time.
const slowCycle = time.Second

// cycleTimer records how long each phase of a cycle took.
type cycleTimer struct {
	clock  clock.Clock
	last   time.Time
	phases []string
}

func (t *cycleTimer) lap(phase string) {
	now := t.clock.Now()
	t.phases = append(t.phases, phase+" "+now.Sub(t.last).Round(time.Millisecond).String())
	t.last = now
}

func (t *cycleTimer) total(start time.Time) time.Duration { return t.clock.Now().Sub(start) }

func (t *cycleTimer) String() string { return strings.Join(t.phases, ", ") }

// fullReadEvery is how often a cycle reads every active job rather than
// only those whose version changed.
const fullReadEvery = time.Minute

// activeJobs returns every job that has not ended, oldest first. A cycle
// reads only the ids and versions of the active jobs and then the rows
// that changed since the last cycle: with thousands of jobs queued or
// running, decoding all of them every cycle was most of the server's CPU.
func (c *Controller) activeJobs(ctx context.Context, now time.Time) ([]Job, error) {
	if c.known == nil || now.Sub(c.knownAt) >= fullReadEvery {
		all, err := c.cfg.Repo.ListActiveJobs(ctx)
		if err != nil {
			return nil, err
		}
		c.known, c.knownAt = make(map[string]Job, len(all)), now
		for _, j := range all {
			c.known[j.ID] = j
		}
		return all, nil
	}
	versions, err := c.cfg.Repo.ActiveJobVersions(ctx)
	if err != nil {
		return nil, err
	}
	var changed []string
	for id, v := range versions {
		if j, ok := c.known[id]; !ok || j.Version != v {
			changed = append(changed, id)
		}
	}
	for id := range c.known {
		if _, ok := versions[id]; !ok {
			delete(c.known, id) // ended (or deleted)
		}
	}
	if len(changed) > 0 {
		fresh, err := c.cfg.Repo.GetJobs(ctx, changed)
		if err != nil {
			return nil, err
		}
		for _, j := range fresh {
			if j.State.Final() {
				delete(c.known, j.ID) // ended between the two reads
			} else {
				c.known[j.ID] = j
			}
		}
	}
	out := make([]Job, 0, len(c.known))
	for _, j := range c.known {
		out = append(out, j) // callers Clone before they change a job
	}
	slices.SortFunc(out, func(a, b Job) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (c *Controller) busy(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight[id]
}

// task is a start or stop of one job.
type task struct {
	id string
	fn func() (wake bool) // wake: ask for a cycle now (GPUs may be free, a job queued again)
}

// async queues fn for the job unless something is already queued or runs
// for it; fn must record its own outcome. At most cfg.Workers tasks run at
// once, so a cycle admitting thousands of jobs does not start thousands of
// goroutines contending for the database and the executor. A cycle follows
// when fn returns.
func (c *Controller) async(id string, fn func()) {
	c.enqueue(task{id: id, fn: func() bool { fn(); return true }}, false)
}

// asyncStart queues a start as async does; a start that succeeds changes
// nothing the scheduler decides on, so only one that fails asks for a
// cycle. With thousands of starts in flight, a cycle after each kept the
// controller re-reading every active job back to back.
func (c *Controller) asyncStart(t toStart) {
	c.enqueue(task{id: t.job.ID, fn: func() bool { return !c.start(context.Background(), t) }}, false)
}

// enqueue queues t, as a release (after every queued start and stop) or
// not.
func (c *Controller) enqueue(t task, release bool) {
	id := t.id
	c.mu.Lock()
	if c.inflight[id] {
		c.mu.Unlock()
		return
	}
	c.inflight[id] = true
	if release {
		c.releases = append(c.releases, t)
	} else {
		c.tasks = append(c.tasks, t)
	}
	spawn := c.workers < c.cfg.Workers
	if spawn {
		c.workers++
		c.wg.Add(1)
	}
	c.mu.Unlock()
	if spawn {
		go c.work()
	}
}

// work runs queued tasks until none is left.
func (c *Controller) work() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		var t task
		switch {
		case len(c.tasks) > 0:
			t, c.tasks[0], c.tasks = c.tasks[0], task{}, c.tasks[1:]
		case len(c.releases) > 0:
			t, c.releases[0], c.releases = c.releases[0], task{}, c.releases[1:]
		default:
			c.workers--
			c.tasks, c.releases = nil, nil // let the backing arrays go
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		wake := t.fn()
		c.mu.Lock()
		delete(c.inflight, t.id)
		c.mu.Unlock()
		if wake {
			c.Wake()
		}
	}
}

// save records j (from cur) and returns the stored job; a lost race
// leaves the stored one for the next cycle.
func (c *Controller) save(ctx context.Context, cur Job, next Job) (Job, bool) {
	next.UpdatedAt = c.cfg.Clock.Now().UTC()
	next.Version = cur.Version + 1
	if err := c.cfg.Repo.UpdateJob(ctx, next, cur.Version); err != nil {
		if !errors.Is(err, fault.ErrPreconditionFailed) {
			c.cfg.Log.Warn("record job", "job", cur.ID, "err", err)
		}
		return cur, false
	}
	return next, true
}

// change is a job's next state decided in a cycle.
type change struct {
	cur, next Job
	admitted  bool
}

// saveBatch bounds one transaction of saveAll.
const saveBatch = 500

// saveAll records the changes in few transactions and returns the
// admitted jobs that were recorded; a lost race leaves the stored job for
// the next cycle, as save does.
func (c *Controller) saveAll(ctx context.Context, changes []change) []Job {
	now := c.cfg.Clock.Now().UTC()
	var admitted []Job
	for chunk := range slices.Chunk(changes, saveBatch) {
		ups := make([]Update, len(chunk))
		for i := range chunk {
			chunk[i].next.UpdatedAt, chunk[i].next.Version = now, chunk[i].cur.Version+1
			ups[i] = Update{Job: chunk[i].next, IfVersion: chunk[i].cur.Version}
		}
		recorded, err := c.cfg.Repo.UpdateJobs(ctx, ups)
		if err != nil {
			c.cfg.Log.Warn("record the cycle's decisions", "jobs", len(ups), "err", err)
			continue
		}
		for i, ok := range recorded {
			if ok && chunk[i].admitted {
				admitted = append(admitted, chunk[i].next)
			}
		}
	}
	return admitted
}

// follow reads a job's run from the executor and returns the job with
// what changed (ok: something did, to be saved).
func (c *Controller) follow(ctx context.Context, j Job) (Job, bool) {
	st, err := c.cfg.Executor.Status(ctx, j.ID)
	if errors.Is(err, fault.ErrNotFound) && j.State == StateStarting {
		// Admitted, no start under way (follow skips busy jobs) and the
		// executor has nothing: the server stopped between admitting and
		// starting it. Start it now; starting is idempotent.
		c.asyncStart(toStart{job: j})
		return j, false
	}
	if errors.Is(err, fault.ErrNotFound) && j.State == StateStopping && !c.busy(j.ID) {
		// Stopped and gone, and the executor no longer knows why (it
		// restarted): the controller asked for the stop, so it does.
		st, err = stoppedStatus(j), nil
	}
	if err != nil {
		c.cfg.Log.Warn("job status", "job", j.ID, "err", err)
		return j, false
	}
	next := j.Clone()
	switch {
	case st.Phase == executor.PhaseRunning && j.State == StateStarting:
		next.State, next.Reason = StateRunning, "running on "+joinNodes(j.Nodes)
		next.StartErrors, next.NotBefore = 0, time.Time{}
		if !st.StartedAt.IsZero() {
			next.StartedAt = st.StartedAt.UTC()
		}
	case st.Phase == executor.PhasePending && j.State == StateStarting && st.Message != "" &&
		j.Reason != "starting on "+joinNodes(j.Nodes)+": "+st.Message:
		next.Reason = "starting on " + joinNodes(j.Nodes) + ": " + st.Message // e.g. preparing its Python environment
	case st.Phase.Final():
		c.release(j, st)
		return j, false
	default:
		return j, false
	}
	return next, true
}

// release finishes an attempt that ended with st — archives its output,
// cleans up after it, records the job's next state and, when the job has
// ended, closes its run — in the background: each is an executor or
// database call, and a cycle in which hundreds of jobs end would otherwise
// hold up every admission behind them. Until it is done the job is busy:
// not followed, not scheduled, its GPUs still counted as held (its pods
// may still be there).
func (c *Controller) release(j Job, st executor.Status) {
	c.enqueue(task{id: j.ID, fn: func() bool {
		ctx := context.Background()
		next := j.Clone()
		c.finish(ctx, j, &next, st, c.cfg.Clock.Now().UTC())
		if saved, ok := c.save(ctx, j, next); ok && saved.State.Final() {
			c.ended(ctx, saved)
		}
		return true
	}}, true)
}

// stoppedStatus is the final status of a job whose stop completed.
func stoppedStatus(j Job) executor.Status {
	ph := executor.PhaseCancelled
	if j.StopReason == executor.StopPreempt {
		ph = executor.PhasePreempted
	}
	return executor.Status{JobID: j.ID, Phase: ph}
}

// finish turns an attempt's final phase into the job's next state.
func (c *Controller) finish(ctx context.Context, j Job, next *Job, st executor.Status, now time.Time) {
	if !j.StartedAt.IsZero() {
		end := st.FinishedAt
		if end.IsZero() {
			end = now
		}
		held := max(end.Sub(j.StartedAt), 0)
		next.GPUSeconds += float64(j.TotalGPUs()) * held.Seconds()
		if c.cfg.Pricer != nil {
			next.Cost += c.cfg.Pricer.AttemptCost(j, held)
		}
	}
	next.ExitCode, next.StopReason = st.ExitCode, "" // Nodes stay: where the last attempt ran
	requeue := func(reason string) {
		next.State, next.Reason, next.Nodes, next.NominatedNodes = StateQueued, reason, nil, nil
	}
	switch st.Phase {
	case executor.PhaseSucceeded:
		next.State, next.Reason, next.FinishedAt = StateSucceeded, "completed", now
	case executor.PhaseTimedOut:
		next.State, next.Reason, next.FinishedAt = StateTimedOut, fmt.Sprintf("stopped after its timeout of %s", j.Timeout), now
	case executor.PhaseCancelled:
		next.State, next.FinishedAt = StateCancelled, now
		if next.Reason == "" {
			next.Reason = "cancelled"
		}
	case executor.PhasePreempted:
		next.Preemptions++
		requeue(preemptedNote(next.Preemptions))
	default: // failed
		next.Failures++
		msg := st.Message
		if msg == "" {
			msg = fmt.Sprintf("exit code %d", st.ExitCode)
		}
		if next.Failures <= j.Retries {
			requeue(fmt.Sprintf("attempt %d failed (%s); retry %d of %d queued", j.Attempt, msg, next.Failures, j.Retries))
		} else {
			next.State, next.FinishedAt = StateFailed, now
			next.Reason = fmt.Sprintf("failed: %s; see `mlportal jobs logs %s`", msg, j.ID)
		}
	}
	c.archive(ctx, j)
	if err := c.cfg.Executor.Cleanup(ctx, j.ID); err != nil {
		c.cfg.Log.Warn("job cleanup", "job", j.ID, "err", err)
	}
}

// archive copies the attempt's output from the executor to the archive.
func (c *Controller) archive(ctx context.Context, j Job) {
	if c.cfg.Logs == nil {
		return
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(c.cfg.Executor.Logs(ctx, j.ID, false, pw)) }()
	if err := c.cfg.Logs.Save(ctx, j.ID, j.Attempt, pr); err != nil {
		c.cfg.Log.Warn("archive the job's output", "job", j.ID, "attempt", j.Attempt, "err", err)
	}
	pr.Close()
}

// ended closes the job's run.
func (c *Controller) ended(ctx context.Context, j Job) {
	c.cfg.Log.Info("job ended", "job", j.ID, "team", j.Team, "project", j.Project, "state", j.State, "gpuSeconds", j.GPUSeconds)
	if c.cfg.Spaces != nil {
		if err := c.cfg.Spaces.Release(ctx, j.ID); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.cfg.Log.Warn("remove the job's workspace", "job", j.ID, "err", err)
		}
	}
	if c.cfg.Runs != nil && j.RunID != "" {
		if err := c.cfg.Runs.EndRun(ctx, j); err != nil {
			c.cfg.Log.Warn("end the job's run", "job", j.ID, "run", j.RunID, "err", err)
		}
	}
}

// snapshot is what the scheduler decides over.
func (c *Controller) snapshot(ctx context.Context, now time.Time, active []Job) (scheduler.Snapshot, error) {
	nodes, err := c.inventory(ctx, now)
	if err != nil {
		return scheduler.Snapshot{}, err
	}
	teams, err := c.cfg.Teams.AllTeams(ctx)
	if err != nil {
		return scheduler.Snapshot{}, fmt.Errorf("list teams: %w", err)
	}
	snap := scheduler.Snapshot{Now: now, Nodes: nodes}
	quota := map[string][]team.GPUQuota{}
	for _, t := range teams {
		st := scheduler.Team{Name: t.Name, Weight: t.FairShareWeight}
		for _, q := range t.GPUQuota {
			st.Quota = append(st.Quota, scheduler.GPUQuota{GPUType: q.GPUType, Nominal: q.Nominal, BorrowingLimit: q.BorrowingLimit})
		}
		quota[t.Name] = t.GPUQuota
		snap.Teams = append(snap.Teams, st)
	}
	free := freeByType(nodes, active)
	preemptedFor := map[string]string{}
	for _, j := range active {
		sj := schedJob(j)
		switch {
		case j.State.Holds():
			a := scheduler.Allocation{Job: sj, Nodes: j.Nodes, StartedAt: j.StartedAt, Terminating: j.State == StateStopping}
			if a.Terminating && j.StopReason == executor.StopPreempt && c.preemptedFor[j.ID] != "" {
				a.PreemptedFor, preemptedFor[j.ID] = c.preemptedFor[j.ID], c.preemptedFor[j.ID]
			}
			snap.Running = append(snap.Running, a)
		case j.State == StateQueued && !c.busy(j.ID) && !now.Before(j.NotBefore):
			if sj.GPUs > 0 && sj.GPUType == lifecycle.GPUTypeAny {
				sj.GPUType = pickType(quota[j.Team], free)
			}
			snap.Pending = append(snap.Pending, sj)
		}
	}
	c.preemptedFor = preemptedFor // only those still stopping
	return snap, nil
}

func (c *Controller) inventory(ctx context.Context, now time.Time) ([]scheduler.Node, error) {
	if c.inv != nil && now.Sub(c.invAt) < c.cfg.InventoryTTL {
		return c.inv, nil
	}
	nodes, err := c.cfg.Executor.Inventory(ctx)
	if err != nil {
		if c.inv != nil {
			c.cfg.Log.Warn("inventory; using the last one", "err", err)
			return c.inv, nil
		}
		return nil, fmt.Errorf("read the GPU inventory: %w", err)
	}
	c.inv, c.invAt = nodes, now
	return nodes, nil
}

// freeByType counts idle GPUs per type.
func freeByType(nodes []scheduler.Node, active []Job) map[string]int {
	free := map[string]int{}
	for _, n := range nodes {
		free[n.GPUType] += n.GPUs
	}
	for _, j := range active {
		if j.State.Holds() && j.GPUType != lifecycle.GPUTypeAny {
			free[j.GPUType] -= j.TotalGPUs()
		}
	}
	return free
}

// pickType resolves "any": the team's quota type with the most idle GPUs,
// else the cluster's.
func pickType(q []team.GPUQuota, free map[string]int) string {
	types := make([]string, 0, len(q))
	for _, x := range q {
		types = append(types, x.GPUType)
	}
	if len(types) == 0 {
		types = slices.Collect(maps.Keys(free))
	}
	sort.Strings(types)
	best, bestFree := "", -1
	for _, t := range types {
		if free[t] > bestFree {
			best, bestFree = t, free[t]
		}
	}
	return best
}

func schedJob(j Job) scheduler.Job {
	return scheduler.Job{ID: j.ID, Team: j.Team, Project: j.Project, Priority: j.Priority, GPUType: j.GPUType, GPUs: j.GPUs,
		Replicas: j.Replicas, CPUMillis: j.CPUMillis, MemoryBytes: j.MemoryBytes, Preemptible: j.Preemptible, Checkpointable: true,
		EstimatedDuration: j.EstimatedDuration, SubmittedAt: j.SubmittedAt, NominatedNodes: j.NominatedNodes}
}

// preemptedNote is the reason of a job requeued after its nth preemption.
// It stays ahead of the scheduler's explanation until the job starts again,
// so that `mlportal jobs explain` tells both why it stopped and why it
// waits.
func preemptedNote(n int) string {
	return fmt.Sprintf("preempted (%d× so far); queued to resume from its last checkpoint", n)
}

// explanation is j with why it waits, when that changed.
func explanation(j Job, p scheduler.Pending) (Job, bool) {
	reason := p.Explain()
	if note := preemptedNote(j.Preemptions); j.Preemptions > 0 && strings.HasPrefix(j.Reason, note) {
		reason = note + "; " + reason
	}
	nominated := p.Nodes
	if p.Reason != scheduler.ReasonPreempting || len(p.Nodes) == 0 { // none: still waiting for earlier victims
		nominated = j.NominatedNodes
	}
	if reason == j.Reason && slices.Equal(nominated, j.NominatedNodes) {
		return j, false
	}
	next := j.Clone()
	next.Reason, next.NominatedNodes = reason, nominated
	return next, true
}

// preempt stops a running job for another; it is requeued when stopped.
func (c *Controller) preempt(ctx context.Context, j Job, p scheduler.Preemption) {
	if j.State != StateRunning && j.State != StateStarting {
		return
	}
	next := j.Clone()
	next.State, next.StopReason, next.Reason = StateStopping, executor.StopPreempt, p.Reason
	saved, ok := c.save(ctx, j, next)
	if ok {
		if c.preemptedFor == nil {
			c.preemptedFor = map[string]string{}
		}
		c.preemptedFor[j.ID] = p.For
		c.cfg.Log.Info("preempting job", "job", j.ID, "for", p.For, "kind", p.Kind, "lostWork", p.LostWork)
		c.stop(saved, executor.StopPreempt, p.GracePeriod)
	}
}

func (c *Controller) stop(j Job, reason executor.StopReason, grace time.Duration) {
	c.async(j.ID, func() {
		ctx := context.Background()
		if err := c.cfg.Executor.Stop(ctx, j.ID, reason, grace); err != nil {
			c.cfg.Log.Warn("stop job", "job", j.ID, "reason", reason, "err", err)
		}
	})
}

// admission is j admitted to the placement a: starting on its nodes.
func (c *Controller) admission(j Job, a scheduler.Admission, snap scheduler.Snapshot) Job {
	gpuType := j.GPUType
	for _, p := range snap.Pending {
		if p.ID == j.ID {
			gpuType = p.GPUType
		}
	}
	next := j.Clone()
	next.State, next.Nodes, next.NominatedNodes, next.GPUType = StateStarting, a.Nodes, nil, gpuType
	next.Pool = poolOf(snap.Nodes, a.Nodes)
	next.Attempt++
	next.StartedAt = c.cfg.Clock.Now().UTC()
	next.Reason = "starting on " + joinNodes(a.Nodes)
	return next
}

// toStart is an admitted job and its run when already made (zero: start
// makes or finds it).
type toStart struct {
	job   Job
	run   RunRef // zero: start makes or looks up the run
	token string // "": start issues it
}

// withRuns creates, in bulk, the runs of the admitted jobs that have none
// and records them on the jobs. A job whose record lost a race is left
// out: the next cycle sees it again. Without BatchRuns, or when it fails,
// every job starts as it is and makes its own run.
func (c *Controller) withRuns(ctx context.Context, admitted []Job) []toStart {
	out := make([]toStart, 0, len(admitted))
	var fresh []Job
	for _, j := range admitted {
		if j.RunID == "" {
			fresh = append(fresh, j)
		} else {
			out = append(out, toStart{job: j}) // resumes its run: start looks it up
		}
	}
	br, ok := c.cfg.Runs.(BatchRuns)
	if !ok || len(fresh) == 0 {
		return append(out, starts(fresh)...)
	}
	made, err := br.StartRuns(ctx, fresh)
	if err != nil {
		c.cfg.Log.Warn("create the admitted jobs' runs; each start creates its own", "jobs", len(fresh), "err", err)
		return append(out, starts(fresh)...)
	}
	changes := make([]change, len(fresh))
	for i, j := range fresh {
		next := j.Clone()
		next.ExperimentID, next.RunID, next.ArtifactURI = made[i].ExperimentID, made[i].RunID, made[i].ArtifactURI
		changes[i] = change{cur: j, next: next, admitted: true}
	}
	recorded := map[string]Job{}
	for _, j := range c.saveAll(ctx, changes) {
		recorded[j.ID] = j
	}
	for i, j := range fresh {
		if saved, ok := recorded[j.ID]; ok {
			out = append(out, toStart{job: saved, run: made[i]})
		}
	}
	return out
}

// withTokens issues, in bulk, the tokens of the jobs to start. Without
// BatchCredentials, or when it fails, every start issues its own.
func (c *Controller) withTokens(ctx context.Context, ts []toStart) []toStart {
	bc, ok := c.cfg.Tokens.(BatchCredentials)
	if !ok || len(ts) == 0 {
		return ts
	}
	js, ttls := make([]Job, len(ts)), make([]time.Duration, len(ts))
	for i, t := range ts {
		js[i], ttls[i] = t.job, tokenTTL(t.job)
	}
	toks, err := bc.JobTokens(ctx, js, ttls)
	if err != nil {
		c.cfg.Log.Warn("issue the admitted jobs' tokens; each start issues its own", "jobs", len(ts), "err", err)
		return ts
	}
	for i := range ts {
		ts[i].token = toks[i]
	}
	return ts
}

// tokenTTL is how long a job's token is valid: its timeout (or the
// longest allowed) and an hour.
func tokenTTL(j Job) time.Duration {
	ttl := j.Timeout
	if ttl <= 0 {
		ttl = MaxTimeout
	}
	return ttl + time.Hour
}

// starts are jobs to start that make their own runs.
func starts(js []Job) []toStart {
	out := make([]toStart, len(js))
	for i, j := range js {
		out[i] = toStart{job: j}
	}
	return out
}

// start prepares the run (unless ref names it), credentials and
// workspace, records the run and starts the job; a failure puts it back
// in the queue or fails it. A job cancelled meanwhile is not started.
// It reports whether the executor took the job.
func (c *Controller) start(ctx context.Context, t toStart) (started bool) {
	j := t.job
	spec, prepared, err := c.spec(ctx, t)
	if err == nil && (prepared.RunID != j.RunID || prepared.ExperimentID != j.ExperimentID) {
		next := j.Clone()
		next.ExperimentID, next.RunID, next.ArtifactURI = prepared.ExperimentID, prepared.RunID, prepared.ArtifactURI
		if _, ok := c.save(ctx, j, next); !ok { // changed meanwhile: a cancel, or the save failed
			cur, gerr := c.cfg.Repo.GetJob(ctx, j.ID)
			if gerr != nil {
				c.cfg.Log.Warn("read job before start", "job", j.ID, "err", gerr)
				return false
			}
			if cur.State != StateStarting || cur.Attempt != j.Attempt {
				return false // the controller follows it from here
			}
			if _, ok := c.save(ctx, cur, next); !ok {
				return false // the next cycle sees it again
			}
		}
	}
	if err == nil {
		if err = c.cfg.Executor.Start(ctx, spec); err == nil {
			return true // follow sees it running
		}
	}
	// Could not start: read the job again (a cancel may have raced).
	cur, gerr := c.cfg.Repo.GetJob(ctx, j.ID)
	if gerr != nil {
		c.cfg.Log.Warn("read job after start", "job", j.ID, "err", gerr)
		return false
	}
	if cur.State != StateStarting || cur.Attempt != j.Attempt {
		c.cfg.Log.Info("job not started; it changed meanwhile", "job", j.ID, "state", cur.State, "err", err)
		return false
	}
	next := cur.Clone()
	if prepared.RunID != "" {
		next.ExperimentID, next.RunID, next.ArtifactURI = prepared.ExperimentID, prepared.RunID, prepared.ArtifactURI
	}
	c.cfg.Log.Warn("start job", "job", j.ID, "err", err)
	next.Nodes = nil
	if passing(err) {
		// The cluster could not take it now (unavailable, overloaded, the
		// namespace's quota full or not yet freed): not the job's failure.
		// It waits, longer after each refusal in a row, and then queues again.
		wait := startBackoff(next.StartErrors)
		next.StartErrors++
		next.State, next.NotBefore = StateQueued, c.cfg.Clock.Now().UTC().Add(wait)
		next.Reason = fmt.Sprintf("could not start: %s; trying again in %s", errorText(err), wait)
		c.save(ctx, cur, next)
		return false
	}
	next.Failures++
	if fe, ok := fault.As(err); ok && next.Failures <= cur.Retries {
		next.State, next.Reason = StateQueued, "could not start: "+fe.Message+"; queued again"
	} else if next.Failures <= cur.Retries {
		next.State, next.Reason = StateQueued, "could not start (the server log has the cause); queued again"
	} else {
		next.State, next.FinishedAt = StateFailed, c.cfg.Clock.Now().UTC()
		next.Reason = "could not start: " + errorText(err)
	}
	if saved, ok := c.save(ctx, cur, next); ok && saved.State.Final() {
		c.ended(ctx, saved)
	}
	return false
}

// passing reports whether a start failed for a reason that passes by
// itself: the executor or its cluster was unavailable, or refused the job
// for now (a conflict, such as a namespace quota still counting ended jobs).
func passing(err error) bool {
	return errors.Is(err, fault.ErrUnavailable) || errors.Is(err, fault.ErrConflict)
}

// startBackoff is how long a job waits after n passing start failures in
// a row: 2s doubling to at most a minute, so that an overloaded cluster is
// not asked again at once by every job it refused.
func startBackoff(n int) time.Duration {
	return min(2*time.Second<<min(n, 5), time.Minute)
}

func errorText(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Message
	}
	return "an internal error; give your platform team the job id"
}

// spec is the executor's view of the job, with its run, token and
// workspace prepared (those t does not bring).
func (c *Controller) spec(ctx context.Context, t toStart) (executor.Spec, Job, error) {
	j, ref := t.job, t.run
	env := map[string]string{}
	maps.Copy(env, j.Env)
	env["MLPORTAL_JOB_ID"], env["MLPORTAL_RUN_ID"], env["MLPORTAL_PROJECT"], env["MLPORTAL_TEAM"] = j.ID, j.ID, j.Project, j.Team
	if c.cfg.TrackingURI != "" {
		env["MLPORTAL_URL"], env["MLFLOW_TRACKING_URI"] = c.cfg.TrackingURI, c.cfg.TrackingURI
	}
	if c.cfg.Runs != nil {
		if ref.RunID == "" {
			var err error
			if ref, err = c.cfg.Runs.StartRun(ctx, j); err != nil {
				return executor.Spec{}, j, fmt.Errorf("create the job's MLflow run: %w", err)
			}
		}
		j.ExperimentID, j.RunID, j.ArtifactURI = ref.ExperimentID, ref.RunID, ref.ArtifactURI
		// mlflow.start_run() continues MLFLOW_RUN_ID's run, and code that
		// calls set_experiment(MLFLOW_EXPERIMENT_NAME) stays in its experiment.
		env["MLFLOW_EXPERIMENT_ID"], env["MLFLOW_EXPERIMENT_NAME"] = ref.ExperimentID, ref.ExperimentName
		env["MLFLOW_RUN_ID"], env["MLPORTAL_ARTIFACT_URI"] = ref.RunID, ref.ArtifactURI
	}
	if tok := t.token; c.cfg.Tokens != nil {
		if tok == "" {
			var err error
			if tok, err = c.cfg.Tokens.JobToken(ctx, j, tokenTTL(j)); err != nil {
				return executor.Spec{}, j, fmt.Errorf("issue the job's token: %w", err)
			}
		}
		env["MLPORTAL_TOKEN"], env["MLFLOW_TRACKING_TOKEN"] = tok, tok
	}
	ws := ""
	if c.cfg.Spaces != nil {
		var err error
		if ws, err = c.cfg.Spaces.Prepare(ctx, j); err != nil {
			return executor.Spec{}, j, err
		}
	}
	labels := map[string]string{"mlportal.io/team": j.Team, "mlportal.io/project": j.Project, "mlportal.io/job": j.ID}
	return executor.Spec{JobID: j.ID, Team: j.Team, Project: j.Project, Attempt: j.Attempt, Image: j.Image, Command: j.Command,
		Env: env, Workspace: ws, CheckpointDir: path.Join(c.cfg.CheckpointRoot, j.ID), GPUs: j.GPUs, GPUType: j.GPUType,
		CPUMillis: j.CPUMillis, MemoryBytes: j.MemoryBytes, Replicas: max(j.Replicas, 1), Nodes: j.Nodes, Timeout: j.Timeout,
		Preemptible: j.Preemptible, Labels: labels}, j, nil
}

// poolOf is the pool of the attempt's first node, which prices it.
func poolOf(inventory []scheduler.Node, nodes []string) string {
	for _, n := range inventory {
		if len(nodes) > 0 && n.Name == nodes[0] {
			return string(n.Pool)
		}
	}
	return ""
}

func joinNodes(nodes []string) string {
	out := slices.Compact(slices.Sorted(slices.Values(nodes)))
	if len(out) == 0 {
		return "-"
	}
	s := out[0]
	for _, n := range out[1:] {
		s += ", " + n
	}
	return s
}

// Settle waits until the starts and stops the controller began have
// returned (tests; shutdown).
func (c *Controller) Settle() { c.wg.Wait() }
