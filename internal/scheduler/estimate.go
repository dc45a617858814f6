package scheduler

import (
	"cmp"
	"slices"
)

// When will a job fit? From the estimated ends of running jobs (a job past
// its estimate is given another quarter of it): for explanations, for
// PreemptWait and for reservations.

// freeAt is when node k is estimated to have g GPUs free, from the
// estimated ends of its live allocations; -1 if never.
func (s *state) freeAt(k int32, g int32) int64 {
	ns := &s.nodes[k]
	free := ns.free
	if free >= g {
		return s.now
	}
	for _, e := range s.nodeEnds(k) {
		free += e.gpus
		if free >= g {
			return e.end
		}
	}
	return -1
}

// nodeEnds lists the estimated ends of node k's live allocations, in
// order, with the GPUs each frees there. The list is cached until the
// node's allocations change.
func (s *state) nodeEnds(k int32) []endGPUs {
	ns := &s.nodes[k]
	if ns.endsOK {
		return ns.ends
	}
	ends := ns.ends[:0]
	for _, ai := range ns.allocs {
		a := &s.allocs[ai]
		if a.gone || a.typ != ns.typ {
			continue
		}
		n := int32(0)
		for _, x := range a.nodes {
			if x == k {
				n++
			}
		}
		ends = append(ends, endGPUs{a.end, n * a.gpus})
	}
	slices.SortFunc(ends, func(a, b endGPUs) int { return cmp.Compare(a.end, b.end) })
	ns.ends, ns.endsOK = ends, true
	return ends
}

type endGPUs struct {
	end  int64
	gpus int32
}

type timedNode struct {
	at int64
	k  int32
}

// earliest finds the replicas' nodes that free up first for job ji (one
// replica per node) and when the last of them does; -1 if never. The nodes
// are left in s.buf. With skipReserved, nodes held for other jobs do not
// count. With gpusOnly, nodes are matched by GPU type, count and pool only
// (an estimate that depends on nothing else of the job).
func (s *state) earliest(ji int32, skipReserved, gpusOnly bool) int64 {
	j := &s.jobs[ji]
	g := int32(j.GPUs)
	cands := s.cands[:0]
	lo, hi := s.typeRange(ji)
	spotOK := j.IsPreemptible() || s.pol.NonPreemptibleOnSpot
	for t := lo; t < hi; t++ {
		for _, k := range s.byType[t] {
			ns := &s.nodes[k]
			if gpusOnly {
				if ns.node.Unschedulable || int32(ns.node.GPUs) < g || (ns.pool == 1 && !spotOK) {
					continue
				}
			} else if !s.staticFits(j, k) {
				continue
			}
			if skipReserved && ns.resFor >= 0 && ns.resFor != ji {
				continue
			}
			if at := s.freeAt(k, g); at >= 0 {
				cands = append(cands, timedNode{at, k})
			}
		}
	}
	s.cands = cands
	r := j.ReplicaCount()
	if len(cands) < r {
		return -1
	}
	byTime := func(a, b timedNode) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.k, b.k)) }
	if r <= 8 { // select the r earliest rather than sort them all
		for p := 0; p < r; p++ {
			m := p
			for i := p + 1; i < len(cands); i++ {
				if byTime(cands[i], cands[m]) < 0 {
					m = i
				}
			}
			cands[p], cands[m] = cands[m], cands[p]
		}
	} else {
		slices.SortFunc(cands, byTime)
	}
	s.buf = s.buf[:0]
	for _, c := range cands[:r] {
		s.buf = append(s.buf, c.k)
	}
	return cands[r-1].at
}

// reserve holds the nodes that free up first for a job that has waited
// ReserveAfter, so that smaller jobs cannot keep taking them (EASY
// backfilling: others may use them only if they end before it can start).
func (s *state) reserve(ji int32) {
	at := s.earliest(ji, true, false)
	if at < 0 {
		return
	}
	j := &s.jobs[ji]
	for _, k := range s.buf {
		ns := &s.nodes[k]
		ns.resFor, ns.resUntil, ns.resNeed = ji, at, int32(j.GPUs)
	}
	s.results[ji].reserving = true
	s.reservations++
}
