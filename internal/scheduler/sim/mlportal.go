package sim

import (
	"time"

	"github.com/mlportal/mlportal/internal/scheduler"
)

// mlportalPolicy drives the real scheduler as a controller would: after
// every event it builds a snapshot, calls scheduler.Schedule and acts on
// the decision (start admitted jobs, signal victims, remember nominations).
type mlportalPolicy struct {
	pol     scheduler.Policy
	running []int
}

func newMLPortal(e *engine) *mlportalPolicy {
	p := *e.opt.Policy
	p.GracePeriod = e.opt.GracePeriod
	return &mlportalPolicy{pol: p}
}

func (m *mlportalPolicy) at(e *engine, s float64) time.Time {
	return e.opt.Start.Add(seconds(s))
}

func (m *mlportalPolicy) step(e *engine) {
	if len(e.queue) == 0 {
		return
	}
	snap := scheduler.Snapshot{Now: m.at(e, e.now), Nodes: e.cluster.Nodes, Teams: e.cluster.Teams}
	live := m.running[:0]
	for _, ji := range m.running {
		j := &e.jobs[ji]
		if j.phase != running && j.phase != stopping {
			continue
		}
		live = append(live, ji)
		sj := j.sj
		sj.EstimatedDuration = seconds(j.estimate)
		a := scheduler.Allocation{Job: sj, StartedAt: m.at(e, j.runStart), Terminating: j.phase == stopping, PreemptedFor: j.preFor}
		if saved := e.saved(j, e.now); saved > 0 {
			a.LastCheckpointAt = m.at(e, j.runStart+saved)
		}
		for _, k := range j.nodes {
			a.Nodes = append(a.Nodes, e.cluster.Nodes[k].Name)
		}
		snap.Running = append(snap.Running, a)
	}
	m.running = live
	for _, ji := range e.queue {
		j := &e.jobs[ji]
		sj := j.sj
		sj.EstimatedDuration = seconds(j.estimate)
		sj.NominatedNodes = j.nominated
		snap.Pending = append(snap.Pending, sj)
	}
	d := scheduler.Schedule(snap, m.pol)
	for _, a := range d.Admit {
		ji := e.byID[a.JobID]
		for _, n := range a.Nodes {
			e.hold(ji, e.nodeIdx[n])
		}
		e.start(ji)
		m.running = append(m.running, ji)
	}
	for _, p := range d.Preempt {
		e.preempt(e.byID[p.JobID], p.For)
	}
	for _, p := range d.Pending {
		if p.Reason == scheduler.ReasonPreempting && len(p.Nodes) > 0 {
			e.jobs[e.byID[p.JobID]].nominated = p.Nodes
		}
	}
}
