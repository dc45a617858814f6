package scheduler_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/scheduler"
)

// The scale of issue 5's target: 10,000 pending jobs from 20 teams over
// 1,000 nodes with 8 GPUs each.
const (
	benchNodes   = 1000
	benchTeams   = 20
	benchPending = 10000
)

// BenchmarkSchedule is one full scheduling pass: every pending job is
// considered once. "empty" starts from an idle cluster (most admissions);
// "loaded" from a cluster already full of running jobs (most preemption
// searches and explanations).
func BenchmarkSchedule(b *testing.B) {
	for _, c := range []struct {
		name    string
		running int
	}{{"empty", 0}, {"loaded", 6000}} {
		b.Run(c.name, func(b *testing.B) {
			snap := randomSnapshot(42, benchNodes, benchTeams, c.running, benchPending)
			pol := scheduler.DefaultPolicy()
			b.ReportAllocs()
			b.ResetTimer()
			var d scheduler.Decision
			for b.Loop() {
				d = scheduler.Schedule(snap, pol)
			}
			b.ReportMetric(float64(len(d.Admit)), "admitted")
			b.ReportMetric(float64(len(d.Preempt)), "preempted")
		})
	}
}

// BenchmarkCycle measures the decision cycle a controller runs after each
// event. Setup (untimed): the full pass on an idle cluster is applied, so
// the cluster is full, and arrivals bring the queue back to 10,000 jobs.
// Then each cycle:
// one event happens (alternately a running job ends — its victims' grace
// periods end too — or a new job arrives), the controller's snapshot is
// updated with the event and the previous decision (untimed: the store
// does that), and Schedule decides on the new snapshot (timed). p50 and p99
// are of the timed Schedule call: wall time, and CPU time of the thread
// running it (which excludes waiting for a CPU on a busy machine).
func BenchmarkCycle(b *testing.B) {
	snap := randomSnapshot(42, benchNodes, benchTeams, 0, benchPending)
	pol := scheduler.DefaultPolicy()
	rng := rand.New(rand.NewPCG(1, 2))
	sim := &cycleSim{snap: snap, rng: rng}
	sim.apply(scheduler.Schedule(sim.snap, pol))
	for len(sim.snap.Pending) < benchPending { // back to 10,000 waiting
		sim.arrive()
	}
	slices.SortFunc(sim.snap.Pending, bySubmission) // as the controller's query returns them
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var lat, cpu []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		sim.event(i)
		b.StartTimer()
		start, startCPU := time.Now(), threadCPU()
		d := scheduler.Schedule(sim.snap, pol)
		lat, cpu = append(lat, time.Since(start)), append(cpu, threadCPU()-startCPU)
		b.StopTimer()
		sim.apply(d)
		b.StartTimer()
	}
	pct := func(xs []time.Duration, p float64) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return float64(xs[min(len(xs)-1, int(p*float64(len(xs))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	b.ReportMetric(pct(cpu, 0.50), "p50-cpu-ms")
	b.ReportMetric(pct(cpu, 0.99), "p99-cpu-ms")
	b.ReportMetric(float64(len(sim.snap.Pending)), "pending")
	b.ReportMetric(float64(len(sim.snap.Running)), "running")
}

// cycleSim keeps a controller's snapshot up to date between cycles.
type cycleSim struct {
	snap scheduler.Snapshot
	rng  *rand.Rand
	next int
}

func (c *cycleSim) event(i int) {
	c.snap.Now = c.snap.Now.Add(time.Second)
	// Victims told to stop in the last cycle are gone and requeued.
	run := c.snap.Running[:0:0]
	for _, a := range c.snap.Running {
		if a.Terminating {
			k, _ := slices.BinarySearchFunc(c.snap.Pending, a.Job, bySubmission)
			c.snap.Pending = slices.Insert(c.snap.Pending, k, a.Job)
			continue
		}
		run = append(run, a)
	}
	c.snap.Running = run
	if i%2 == 0 && len(c.snap.Running) > 0 {
		k := c.rng.IntN(len(c.snap.Running))
		c.snap.Running = slices.Delete(c.snap.Running, k, k+1)
		return
	}
	c.arrive()
}

// arrive adds a job like a random pending one.
func (c *cycleSim) arrive() {
	j := c.snap.Pending[c.rng.IntN(len(c.snap.Pending))]
	j.ID = fmt.Sprintf("new-%06d", c.next)
	j.SubmittedAt = c.snap.Now
	j.NominatedNodes = nil
	c.next++
	c.snap.Pending = append(c.snap.Pending, j)
}

func (c *cycleSim) apply(d scheduler.Decision) {
	started := make(map[string][]string, len(d.Admit))
	for _, a := range d.Admit {
		started[a.JobID] = a.Nodes
	}
	stop := make(map[string]string, len(d.Preempt))
	for _, p := range d.Preempt {
		stop[p.JobID] = p.For
	}
	for i := range c.snap.Running {
		if f, ok := stop[c.snap.Running[i].Job.ID]; ok {
			c.snap.Running[i].Terminating, c.snap.Running[i].PreemptedFor = true, f
		}
	}
	nominated := map[string][]string{}
	for _, p := range d.Pending {
		if p.Reason == scheduler.ReasonPreempting {
			nominated[p.JobID] = p.Nodes
		}
	}
	pending := make([]scheduler.Job, 0, len(c.snap.Pending))
	for _, j := range c.snap.Pending {
		if n, ok := started[j.ID]; ok {
			j.NominatedNodes = nil
			c.snap.Running = append(c.snap.Running, scheduler.Allocation{Job: j, Nodes: n, StartedAt: c.snap.Now})
			continue
		}
		if n, ok := nominated[j.ID]; ok {
			j.NominatedNodes = n
		}
		pending = append(pending, j)
	}
	c.snap.Pending = pending
}

func bySubmission(a, b scheduler.Job) int {
	if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
