package sim

import (
	"container/heap"
	"context"
	"math"
	"slices"
	"time"

	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/scheduler/trace"
)

type phase int8

const (
	waiting  phase = iota // queued, possibly with some replicas placed (baseline)
	running               // all replicas placed, making progress
	stopping              // preempted, in its grace period
	done
)

// jobState is one trace job during a replay. Times are seconds from the
// start of the virtual clock.
type jobState struct {
	tj        trace.Job
	sj        scheduler.Job
	typ       int // index into engine.types
	team      int
	submit    float64
	remaining float64 // work left
	estimate  float64 // the submitter's estimate of the work left (0: none)
	phase     phase
	nodes     []int // nodes holding its replicas
	runStart  float64
	ran       float64 // seconds running, lost work included
	end       float64
	epoch     int // invalidates stale completion and stop events
	nominated []string
	preFor    string
	created   int // pods created against the quota (baseline)
}

type event struct {
	at    float64
	job   int
	epoch int
	stop  bool // a preempted job's grace period ends
}

type events []event

func (h events) Len() int { return len(h) }
func (h events) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].job < h[j].job
}
func (h events) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *events) Push(x any)   { *h = append(*h, x.(event)) }
func (h *events) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// engine is the event loop and the books both schedulers share.
type engine struct {
	opt     Options
	cluster Cluster
	types   []string
	jobs    []jobState
	byID    map[string]int
	nodeIdx map[string]int
	free    []int // GPUs free per node
	freeCPU []int64
	freeMem []int64
	price   []float64 // per node, per GPU-hour
	pool    []int     // per node: 0 on-demand, 1 spot
	now     float64
	next    int // next arrival
	queue   []int
	evs     events

	// Books, kept up to date at every transition.
	freeCost    []float64 // per type: price-weighted free GPUs
	freeGPUs    []int     // per type
	waitingJobs []int     // per type
	strandGPUs  int       // held by replicas of jobs not running yet
	strandCost  float64
	busyGPUs    int
	busyCost    float64
	teamUsed    []float64
	teamDemand  []float64
	teamWeight  []float64
	teamNames   []string

	// Integrals.
	busyH, idleH, strandH, lostH float64
	busyC, idleC, strandC, lostC float64
	teamUsedH, teamFairH         []float64
	preemptions                  int
	firstSubmit, lastEnd         float64
	busyAtLastSubmit             float64
	fairBuf                      []int
	capacity                     int
	stepCalls                    int
}

func newEngine(jobs []trace.Job, c Cluster, opt Options) (*engine, error) {
	e := &engine{opt: opt, cluster: c, byID: make(map[string]int, len(jobs)), nodeIdx: map[string]int{}}
	for _, n := range c.Nodes {
		if !slices.Contains(e.types, n.GPUType) {
			e.types = append(e.types, n.GPUType)
		}
	}
	slices.Sort(e.types)
	nt := len(e.types)
	e.freeCost, e.freeGPUs, e.waitingJobs = make([]float64, nt), make([]int, nt), make([]int, nt)
	for i, n := range c.Nodes {
		e.nodeIdx[n.Name] = i
		e.free = append(e.free, n.GPUs)
		e.freeCPU = append(e.freeCPU, n.CPUMillis)
		e.freeMem = append(e.freeMem, n.MemoryBytes)
		p := opt.price(n.GPUType, n.Pool)
		e.price = append(e.price, p)
		pool := 0
		if n.Pool == scheduler.PoolSpot {
			pool = 1
		}
		e.pool = append(e.pool, pool)
		t := slices.Index(e.types, n.GPUType)
		e.freeGPUs[t] += n.GPUs
		e.freeCost[t] += float64(n.GPUs) * p
		e.capacity += n.GPUs
	}
	teamIdx := map[string]int{}
	for _, t := range c.Teams {
		teamIdx[t.Name] = len(e.teamNames)
		e.teamNames = append(e.teamNames, t.Name)
		w := t.Weight
		if w <= 0 {
			w = 1
		}
		e.teamWeight = append(e.teamWeight, w)
	}
	sorted := slices.Clone(jobs)
	slices.SortStableFunc(sorted, func(a, b trace.Job) int {
		switch {
		case a.Submit < b.Submit:
			return -1
		case a.Submit > b.Submit:
			return 1
		}
		return 0
	})
	e.jobs = make([]jobState, len(sorted))
	for i, tj := range sorted {
		ti, ok := teamIdx[tj.Team]
		if !ok {
			ti = len(e.teamNames)
			teamIdx[tj.Team] = ti
			e.teamNames = append(e.teamNames, tj.Team)
			e.teamWeight = append(e.teamWeight, 1)
		}
		e.jobs[i] = jobState{tj: tj, sj: tj.SchedulerJob(opt.Start), typ: slices.Index(e.types, tj.GPUType), team: ti,
			submit: tj.Submit, remaining: tj.Duration, estimate: tj.Estimate}
		e.byID[tj.ID] = i
	}
	nteam := len(e.teamNames)
	e.teamUsed, e.teamDemand = make([]float64, nteam), make([]float64, nteam)
	e.teamUsedH, e.teamFairH = make([]float64, nteam), make([]float64, nteam)
	if len(e.jobs) > 0 {
		e.firstSubmit = e.jobs[0].submit
		e.now = e.firstSubmit
	}
	return e, nil
}

// run processes events in time order, calling step after each batch of
// events at one instant, until every job is done or nothing can change.
func (e *engine) run(ctx context.Context, step func(*engine)) error {
	limit := math.Inf(1)
	if len(e.jobs) > 0 {
		limit = e.jobs[len(e.jobs)-1].submit + 60*86400
		if e.opt.MaxDuration > 0 {
			limit = e.jobs[len(e.jobs)-1].submit + e.opt.MaxDuration.Seconds()
		}
	}
	for {
		next := math.Inf(1)
		if e.next < len(e.jobs) {
			next = e.jobs[e.next].submit
		}
		if len(e.evs) > 0 {
			next = math.Min(next, e.evs[0].at)
		}
		if math.IsInf(next, 1) || next > limit {
			return nil // all done, or nothing will ever change
		}
		if e.stepCalls%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		e.advance(next)
		for len(e.evs) > 0 && e.evs[0].at <= e.now {
			ev := heap.Pop(&e.evs).(event)
			j := &e.jobs[ev.job]
			if ev.epoch != j.epoch || (ev.stop && j.phase != stopping) || (!ev.stop && j.phase != running && j.phase != stopping) {
				continue
			}
			if ev.stop {
				e.stopped(ev.job)
			} else {
				e.complete(ev.job)
			}
		}
		for e.next < len(e.jobs) && e.jobs[e.next].submit <= e.now {
			e.enqueue(e.next)
			e.next++
			if e.next == len(e.jobs) {
				e.busyAtLastSubmit = e.busyH
			}
		}
		e.stepCalls++
		step(e)
	}
}

// advance integrates the books up to t.
func (e *engine) advance(t float64) {
	dt := (t - e.now) / 3600
	if dt > 0 {
		e.busyH += float64(e.busyGPUs) * dt
		e.busyC += e.busyCost * dt
		e.strandH += float64(e.strandGPUs) * dt
		e.strandC += e.strandCost * dt
		for ty := range e.types {
			if e.waitingJobs[ty] > 0 {
				e.idleH += float64(e.freeGPUs[ty]) * dt
				e.idleC += e.freeCost[ty] * dt
			}
		}
		fair := e.fairShares()
		for i := range e.teamNames {
			e.teamUsedH[i] += e.teamUsed[i] * dt
			e.teamFairH[i] += fair[i] * dt
		}
	}
	e.now = t
}

// fairShares is the weighted max-min fair split of all GPUs among teams'
// current demands (water-filling).
func (e *engine) fairShares() []float64 {
	n := len(e.teamNames)
	out := make([]float64, n)
	active := e.fairBuf[:0]
	for i := range n {
		if e.teamDemand[i] > 0 {
			active = append(active, i)
		}
	}
	remaining := float64(e.capacity)
	for len(active) > 0 {
		var w float64
		for _, i := range active {
			w += e.teamWeight[i]
		}
		level := remaining / w
		kept := active[:0]
		for _, i := range active {
			if e.teamDemand[i] <= level*e.teamWeight[i] {
				out[i] = e.teamDemand[i]
				remaining -= e.teamDemand[i]
			} else {
				kept = append(kept, i)
			}
		}
		if len(kept) == len(active) {
			for _, i := range kept {
				out[i] = level * e.teamWeight[i]
			}
			break
		}
		active = kept
	}
	e.fairBuf = active[:0]
	return out
}

func (e *engine) enqueue(ji int) {
	j := &e.jobs[ji]
	j.phase = waiting
	e.queue = append(e.queue, ji)
	if j.typ >= 0 {
		e.waitingJobs[j.typ]++
	}
	e.teamDemand[j.team] += float64(j.tj.TotalGPUs())
}

// dequeue removes a job from the waiting queue (it runs or is done).
func (e *engine) dequeue(ji int) {
	j := &e.jobs[ji]
	if k := slices.Index(e.queue, ji); k >= 0 {
		e.queue = slices.Delete(e.queue, k, k+1)
	}
	if j.typ >= 0 {
		e.waitingJobs[j.typ]--
	}
}

// hold places one replica of a job on node k.
func (e *engine) hold(ji, k int) {
	j := &e.jobs[ji]
	g := j.tj.GPUs
	e.free[k] -= g
	e.freeCPU[k] -= j.tj.CPUMillis
	e.freeMem[k] -= j.tj.MemoryMiB << 20
	e.freeGPUs[j.typ] -= g
	e.freeCost[j.typ] -= float64(g) * e.price[k]
	e.strandGPUs += g
	e.strandCost += float64(g) * e.price[k]
	j.nodes = append(j.nodes, k)
}

// release frees all a job's replicas.
func (e *engine) release(ji int) {
	j := &e.jobs[ji]
	g := j.tj.GPUs
	for _, k := range j.nodes {
		e.free[k] += g
		e.freeCPU[k] += j.tj.CPUMillis
		e.freeMem[k] += j.tj.MemoryMiB << 20
		e.freeGPUs[j.typ] += g
		e.freeCost[j.typ] += float64(g) * e.price[k]
		if j.phase == waiting {
			e.strandGPUs -= g
			e.strandCost -= float64(g) * e.price[k]
		} else {
			e.busyGPUs -= g
			e.busyCost -= float64(g) * e.price[k]
		}
	}
	if j.phase != waiting {
		e.teamUsed[j.team] -= float64(j.tj.TotalGPUs())
	}
	j.nodes = j.nodes[:0]
}

// start runs a job whose replicas all hold their nodes.
func (e *engine) start(ji int) {
	j := &e.jobs[ji]
	g := j.tj.GPUs
	for _, k := range j.nodes {
		e.strandGPUs -= g
		e.strandCost -= float64(g) * e.price[k]
		e.busyGPUs += g
		e.busyCost += float64(g) * e.price[k]
	}
	e.dequeue(ji)
	j.phase, j.runStart, j.nominated = running, e.now, nil
	e.teamUsed[j.team] += float64(j.tj.TotalGPUs())
	j.epoch++
	heap.Push(&e.evs, event{at: e.now + j.remaining, job: ji, epoch: j.epoch})
}

func (e *engine) complete(ji int) {
	j := &e.jobs[ji]
	j.ran += e.now - j.runStart
	e.release(ji)
	j.phase, j.end, j.remaining = done, e.now, 0
	j.epoch++
	e.teamDemand[j.team] -= float64(j.tj.TotalGPUs())
	e.lastEnd = math.Max(e.lastEnd, e.now)
}

// preempt signals a running job; it stops after the grace period.
func (e *engine) preempt(ji int, forJob string) {
	j := &e.jobs[ji]
	if j.phase != running {
		return
	}
	j.phase, j.preFor = stopping, forJob
	e.preemptions++
	heap.Push(&e.evs, event{at: e.now + e.opt.GracePeriod.Seconds(), job: ji, epoch: j.epoch, stop: true})
}

// checkpoint is the start of the current run plus the work saved so far.
func (e *engine) saved(j *jobState, at float64) float64 {
	if !j.tj.Checkpointable {
		return 0
	}
	iv := e.opt.CheckpointInterval.Seconds()
	return math.Floor((at-j.runStart)/iv) * iv
}

// stopped ends a preempted job's run: the work since its last checkpoint
// is lost and it queues again, keeping its submission time.
func (e *engine) stopped(ji int) {
	j := &e.jobs[ji]
	elapsed := e.now - j.runStart
	saved := math.Min(e.saved(j, e.now), j.remaining)
	lost := elapsed - saved
	for _, k := range j.nodes {
		e.lostH += float64(j.tj.GPUs) * lost / 3600
		e.lostC += float64(j.tj.GPUs) * lost / 3600 * e.price[k]
	}
	j.ran += elapsed
	j.remaining -= saved
	if j.estimate > 0 {
		j.estimate = math.Max(60, j.estimate-saved)
	}
	e.release(ji)
	j.preFor = ""
	j.epoch++
	j.phase = waiting
	e.queue = append(e.queue, ji)
	e.waitingJobs[j.typ]++
}

func (e *engine) result() Result {
	r := Result{Jobs: len(e.jobs), Preemptions: e.preemptions,
		BusyGPUHours: e.busyH, IdleGPUHours: e.idleH, StrandedGPUHours: e.strandH, LostGPUHours: e.lostH,
		BusyCost: e.busyC, IdleCost: e.idleC, StrandedCost: e.strandC, LostCost: e.lostC}
	r.WastedCost = r.IdleCost + r.StrandedCost + r.LostCost
	r.MakespanHours = (e.lastEnd - e.firstSubmit) / 3600
	if window := (e.jobs[len(e.jobs)-1].submit - e.firstSubmit) / 3600; window > 0 && e.capacity > 0 {
		r.Utilisation = e.busyAtLastSubmit / (float64(e.capacity) * window)
	}
	var jcts []float64
	var queued float64
	teamJCT := make([]float64, len(e.teamNames))
	teamJobs := make([]int, len(e.teamNames))
	finished := make([]int, len(e.teamNames))
	for i := range e.jobs {
		j := &e.jobs[i]
		teamJobs[j.team]++
		if j.phase != done {
			continue
		}
		finished[j.team]++
		jct := (j.end - j.submit) / 3600
		jcts = append(jcts, jct)
		queued += jct - j.ran/3600
		teamJCT[j.team] += jct
	}
	r.Completed = len(jcts)
	if len(jcts) > 0 {
		var sum float64
		for _, x := range jcts {
			sum += x
		}
		slices.Sort(jcts)
		r.MeanJCTHours = sum / float64(len(jcts))
		r.P95JCTHours = jcts[min(len(jcts)-1, int(math.Ceil(0.95*float64(len(jcts))))-1)]
		r.MeanQueueingHours = queued / float64(len(jcts))
	}
	var s, s2 float64
	n := 0
	for i, name := range e.teamNames {
		tr := TeamResult{Team: name, Jobs: teamJobs[i], GPUHours: e.teamUsedH[i]}
		if e.teamFairH[i] > 0 {
			tr.Share = e.teamUsedH[i] / e.teamFairH[i]
			s += tr.Share
			s2 += tr.Share * tr.Share
			n++
		}
		if finished[i] > 0 {
			tr.MeanJCTHours = teamJCT[i] / float64(finished[i])
		}
		r.Teams = append(r.Teams, tr)
	}
	if n > 0 && s2 > 0 {
		r.Fairness = s * s / (float64(n) * s2)
	}
	return r
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }
