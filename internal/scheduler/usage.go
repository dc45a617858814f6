package scheduler

import "time"

// What running work costs each team and which of it preemption may touch.

// candidate adds (sign 1) or removes (sign -1) a running allocation from its
// nodes' preemption candidates.
func (s *state) candidate(a *allocState, sign int32) {
	if a.terminating || a.pending >= 0 || a.typ < 0 {
		return
	}
	for _, k := range a.nodes {
		ns := &s.nodes[k]
		if ns.typ != a.typ {
			continue
		}
		ns.cand += sign * a.gpus
		if a.job.IsPreemptible() {
			ns.candPre[a.job.Priority&3] += sign * a.gpus
		}
	}
}

// estimatedEnd is start + estimate. A job past its estimate is assumed to
// need another quarter of it, at least five minutes.
func (s *state) estimatedEnd(start int64, est time.Duration) int64 {
	if est <= 0 {
		est = unknownDuration
	}
	if end := start + int64(est); end > s.now {
		return end
	}
	return s.now + max(int64(est)/4, int64(5*time.Minute))
}

// charge adds (sign 1) or removes (sign -1) an allocation's use from its
// team's counters.
func (s *state) charge(a *allocState, sign int32) {
	ts := &s.teams[a.team]
	n := int32(len(a.nodes))
	if a.typ >= 0 {
		g := sign * a.gpus * n
		ts.used[a.typ] += g
		if !a.terminating {
			ts.liveUsed[a.typ] += g
			if a.job.IsPreemptible() {
				ts.candidate[a.typ][a.job.Priority&3] += g
			}
		}
	}
	ts.usedCPU += int64(sign) * a.job.CPUMillis * int64(n)
	ts.usedMem += int64(sign) * a.job.MemoryBytes * int64(n)
}

// dominantShare is the team's largest share of any resource (each GPU type,
// CPU, memory) divided by its weight.
func (s *state) dominantShare(ts *teamState) float64 {
	var d float64
	for t, u := range ts.used {
		if s.capGPU[t] > 0 {
			d = max(d, float64(u)/float64(s.capGPU[t]))
		}
	}
	if s.capCPU > 0 {
		d = max(d, float64(ts.usedCPU)/float64(s.capCPU))
	}
	if s.capMem > 0 {
		d = max(d, float64(ts.usedMem)/float64(s.capMem))
	}
	return d / ts.weight
}
