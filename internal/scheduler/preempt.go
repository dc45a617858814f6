package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// victim is a running allocation considered for preemption on one node.
type victim struct {
	a        int32 // index into state.allocs
	team     int32
	gpus     int32 // GPUs it frees on the node considered
	cpu, mem int64 // CPU and memory it frees there
	total    int32 // all its GPUs
	prio     PriorityClass
	lost     int64 // GPU-nanoseconds of work lost since its last checkpoint
	start    int64
	kind     PreemptionKind
}

// victimOrder: lowest priority, least work lost, fewest GPUs, most recently
// started first.
func victimOrder(a, b victim) int {
	return cmp.Or(cmp.Compare(a.prio, b.prio), cmp.Compare(a.lost, b.lost), cmp.Compare(a.total, b.total),
		cmp.Compare(b.start, a.start), cmp.Compare(a.a, b.a))
}

// setCost ranks victim sets: the highest class stopped, work lost, GPUs
// stopped, jobs stopped.
type setCost struct {
	prio  PriorityClass
	lost  int64
	gpus  int32
	count int
}

func (c setCost) less(d setCost) bool {
	return cmp.Or(cmp.Compare(c.prio, d.prio), cmp.Compare(c.lost, d.lost), cmp.Compare(c.gpus, d.gpus), cmp.Compare(c.count, d.count)) < 0
}

// eligible says whether job j of team ti may stop allocation a, and by
// which rule: a job within its team's nominal quota reclaims GPUs of teams
// that borrow; a job stops preemptible work of a lower class of its own
// team, of a team that borrows, or of any team when the job is within its
// nominal quota. Nothing else is ever preempted.
func (s *state) eligible(a *allocState, ti int32, j *Job, within bool) (PreemptionKind, bool) {
	if within && a.team != ti {
		if tb := &s.teams[a.team]; tb.used[a.typ]-s.removed[a.team] > tb.nominal[a.typ] {
			return Reclaim, true
		}
	}
	if a.job.IsPreemptible() && a.job.Priority < j.Priority {
		// Across teams only where the victim's team borrows or the job is
		// within its own quota: a borrower never takes another team's
		// nominal share, preemptible or not.
		if a.team == ti || within {
			return Priority, true
		}
		if tb := &s.teams[a.team]; tb.used[a.typ]-s.removed[a.team] > tb.nominal[a.typ] {
			return Priority, true
		}
	}
	return "", false
}

// enough is a cheap upper bound: could free GPUs plus every GPU the job may
// preempt hold it at all?
func (s *state) enough(ti, ji int32, within bool) bool {
	j := &s.jobs[ji]
	t := s.jobType[ji]
	pools, np := s.pools(j)
	bound := int32(0)
	for i := 0; i < np; i++ {
		bound += s.freeGPU[2*t+int32(pools[i])]
	}
	for b := range s.teams {
		tb := &s.teams[b]
		if within && int32(b) != ti && tb.used[t] > tb.nominal[t] {
			bound += tb.liveUsed[t]
			continue
		}
		for p := PriorityPreemptible; p < j.Priority; p++ {
			bound += tb.candidate[t][p]
		}
	}
	return bound >= int32(j.TotalGPUs())
}

// preempt tries to make room for job ji by stopping work it is entitled to
// stop, choosing per replica the node where that loses the least. On
// success the victims are recorded, the job holds the freed capacity for the
// rest of the call and stays pending (Preempting) until they have stopped.
func (s *state) preempt(ti, ji int32, within bool) bool {
	j := &s.jobs[ji]
	t := s.jobType[ji]
	g, reps := int32(j.GPUs), int32(j.ReplicaCount())
	// Without reclaim, what a job may stop does not depend on its team.
	key := memoKey{-1, t, int8(j.Priority), false}
	if within {
		key = memoKey{ti, t, int8(j.Priority), true}
	}
	if m, ok := s.preemptMemo[key]; ok && m.gen == s.gen[t] && g >= m.gpus && reps >= m.replicas {
		return false
	}
	gen := s.gen[t]
	fail := func() bool {
		s.gen[t] = gen // the scratch state is as it was
		s.preemptMemo[key] = memoVal{gen, g, reps}
		return false
	}
	if !s.enough(ti, ji, within) {
		return fail()
	}
	if s.pol.PreemptWait > 0 && j.Priority < PriorityInteractive {
		if at := s.fitsAtNanos(ji); at >= 0 && at-s.now <= int64(s.pol.PreemptWait) {
			s.results[ji].deferred = true // room is about to free up: cheaper to wait
			return false
		}
	}

	if s.removed == nil {
		s.removed = make([]int32, len(s.teams))
	}
	s.chosen = s.chosen[:0]
	nodes := make([]int32, 0, reps)
	for r := int32(0); r < reps; r++ {
		k := s.bestNode(ji)
		if k < 0 {
			k = s.cheapest(ti, ji, within)
		}
		if k < 0 {
			for _, k := range nodes {
				s.take(k, g, j.CPUMillis, j.MemoryBytes, -1)
			}
			for i := len(s.chosen) - 1; i >= 0; i-- {
				s.release(s.chosen[i].a, 1)
			}
			s.chosen = s.chosen[:0]
			return fail()
		}
		s.take(k, g, j.CPUMillis, j.MemoryBytes, 1)
		nodes = append(nodes, k)
	}
	s.buf = append(s.buf[:0], nodes...)
	r := &s.results[ji]
	if len(s.chosen) == 0 { // room appeared on nodes freed for earlier replicas
		s.admit(ji, false)
		r.admitted = true
		return true
	}
	s.admit(ji, true)
	r.preempting, r.reason = true, ReasonPreempting
	ts := &s.teams[ti]
	for _, v := range s.chosen {
		a := &s.allocs[v.a]
		r.victims = append(r.victims, a.job.ID)
		s.preempts = append(s.preempts, Preemption{
			JobID: a.job.ID, Team: a.job.Team, For: j.ID, ForTeam: j.Team, Kind: v.kind,
			Reason: s.preemptionReason(v, a, j, ts), GPUs: int(v.total), LostWork: time.Duration(s.now - a.ckpt),
			GracePeriod: s.pol.GracePeriod,
		})
		s.fix(v.team)
	}
	return true
}

func (s *state) preemptionReason(v victim, a *allocState, j *Job, ts *teamState) string {
	t := a.typ
	if v.kind == Reclaim {
		return fmt.Sprintf("team %s takes back %s GPUs lent to team %s: its job %s needs %d within the team's nominal quota of %d",
			j.Team, s.types[t], a.job.Team, j.ID, j.TotalGPUs(), ts.nominal[t])
	}
	return fmt.Sprintf("job %s (team %s, %s) needs %d %s GPUs, and this job is preemptible and of a lower class (%s)",
		j.ID, j.Team, j.Priority, j.TotalGPUs(), s.types[t], a.job.Priority)
}

// release stops (sign -1) or restores (sign 1) an allocation in the scratch
// state: its replicas' resources and its team's usage.
func (s *state) release(ai int32, sign int32) {
	a := &s.allocs[ai]
	for _, k := range a.nodes {
		g := int32(0)
		if s.nodes[k].typ == a.typ {
			g = a.gpus
		}
		s.take(k, g, a.job.CPUMillis, a.job.MemoryBytes, sign)
	}
	a.gone = sign < 0
	for _, k := range a.nodes {
		s.nodes[k].endsOK = false
	}
	if a.typ >= 0 {
		s.capVer[a.typ]++
	}
	s.charge(a, sign)
	s.candidate(a, sign)
	ts := &s.teams[a.team]
	ts.share = s.dominantShare(ts)
	s.gen[a.typ]++
}

// cheapest finds the node where stopping eligible work frees room for one
// replica of job ji at the least cost, stops that work (in the scratch
// state, appending to s.chosen) and returns the node; -1 if none.
func (s *state) cheapest(ti, ji int32, within bool) int32 {
	j := &s.jobs[ji]
	t := s.jobType[ji]
	g := int32(j.GPUs)
	bestK := int32(-1)
	var bestCost setCost
	s.best = s.best[:0]
	for _, k := range s.byType[t] {
		ns := &s.nodes[k]
		bound := ns.free
		if within {
			bound += ns.cand
		} else {
			for p := PriorityPreemptible; p < j.Priority; p++ {
				bound += ns.candPre[p]
			}
		}
		if bound < g || !s.staticFits(j, k) {
			continue
		}
		vs := s.victims[:0]
		avail := ns.free
		for _, ai := range ns.allocs {
			a := &s.allocs[ai]
			if a.gone || a.terminating || a.pending >= 0 || a.typ != t {
				continue
			}
			kind, ok := s.eligible(a, ti, j, within)
			if !ok {
				continue
			}
			n := int32(0)
			for _, x := range a.nodes {
				if x == k {
					n++
				}
			}
			total := a.gpus * int32(len(a.nodes))
			vs = append(vs, victim{a: ai, team: a.team, gpus: n * a.gpus, cpu: int64(n) * a.job.CPUMillis, mem: int64(n) * a.job.MemoryBytes,
				total: total, prio: a.job.Priority, lost: (s.now - a.ckpt) * int64(total), start: a.start, kind: kind})
			avail += n * a.gpus
		}
		s.victims = vs
		if avail < g || len(vs) == 0 {
			continue
		}
		slices.SortFunc(vs, victimOrder)
		free, cpu, mem := ns.free, ns.freeCPU, ns.freeMem
		fits := func() bool { return free >= g && cpu >= j.CPUMillis && mem >= j.MemoryBytes }
		sel := s.chosenOnNode[:0]
		for _, v := range vs {
			if fits() {
				break
			}
			if v.kind == Reclaim {
				if tb := &s.teams[v.team]; tb.used[t]-s.removed[v.team] <= tb.nominal[t] {
					// The team no longer borrows once earlier victims stop.
					if !s.allocs[v.a].job.IsPreemptible() || v.prio >= j.Priority {
						continue
					}
					v.kind = Priority
				}
			}
			sel = append(sel, v)
			s.removed[v.team] += v.total
			free, cpu, mem = free+v.gpus, cpu+v.cpu, mem+v.mem
		}
		for _, v := range sel {
			s.removed[v.team] -= v.total
		}
		if !fits() {
			s.chosenOnNode = sel
			continue
		}
		// Drop victims the job fits without, most expensive first.
		for i := len(sel) - 1; i >= 0; i-- {
			v := sel[i]
			if free-v.gpus >= g && cpu-v.cpu >= j.CPUMillis && mem-v.mem >= j.MemoryBytes {
				free, cpu, mem = free-v.gpus, cpu-v.cpu, mem-v.mem
				sel = append(sel[:i], sel[i+1:]...)
			}
		}
		s.chosenOnNode = sel
		c := setCost{count: len(sel)}
		for _, v := range sel {
			c.prio = max(c.prio, v.prio)
			c.lost += v.lost
			c.gpus += v.total
		}
		if bestK < 0 || c.less(bestCost) {
			bestK, bestCost = k, c
			s.best = append(s.best[:0], sel...)
		}
	}
	if bestK < 0 {
		return -1
	}
	for _, v := range s.best {
		s.release(v.a, -1)
		s.chosen = append(s.chosen, v)
	}
	return bestK
}
