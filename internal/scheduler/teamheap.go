package scheduler

// The teams' queue heads wait in a heap ordered by the key of each head job:
// within nominal quota first, then (with FairSharing) lower weighted
// dominant share, higher class, earlier submission, team name.

// setKey computes the heap key of a team's head job.
func (s *state) setKey(ti int32) {
	ts := &s.teams[ti]
	ji := ts.queue[ts.head]
	j := &s.jobs[ji]
	ts.hkClass = 0
	if t := s.jobType[ji]; t >= 0 && j.GPUs > 0 && ts.used[t]+int32(j.TotalGPUs()) > ts.nominal[t] {
		ts.hkClass = 1
	}
	ts.hkPrio = int8(j.Priority)
	ts.hkShare = 0
	if ts.hkClass == 1 && s.pol.FairSharing {
		ts.hkShare = ts.share
	}
	ts.hkOrder = s.order[ji]
}

func (s *state) less(a, b int32) bool {
	x, y := &s.teams[a], &s.teams[b]
	if x.hkClass != y.hkClass {
		return x.hkClass < y.hkClass
	}
	if x.hkShare != y.hkShare {
		return x.hkShare < y.hkShare
	}
	if x.hkPrio != y.hkPrio {
		return x.hkPrio > y.hkPrio
	}
	if x.hkOrder != y.hkOrder {
		return x.hkOrder < y.hkOrder
	}
	return a < b
}

func (s *state) push(ti int32) {
	s.teams[ti].hpos = int32(len(s.heap))
	s.heap = append(s.heap, ti)
	s.up(len(s.heap) - 1)
}

func (s *state) pop() int32 {
	top := s.heap[0]
	last := len(s.heap) - 1
	s.swap(0, last)
	s.heap = s.heap[:last]
	s.teams[top].hpos = -1
	if last > 0 {
		s.down(0)
	}
	return top
}

// fix restores the heap after a team's key changed (its usage dropped
// because jobs of it were preempted).
func (s *state) fix(ti int32) {
	p := s.teams[ti].hpos
	if p < 0 {
		return
	}
	s.setKey(ti)
	s.up(int(p))
	s.down(int(s.teams[ti].hpos))
}

func (s *state) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.teams[s.heap[i]].hpos = int32(i)
	s.teams[s.heap[j]].hpos = int32(j)
}

func (s *state) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(s.heap[i], s.heap[p]) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *state) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.less(s.heap[r], s.heap[l]) {
			m = r
		}
		if !s.less(s.heap[m], s.heap[i]) {
			return
		}
		s.swap(i, m)
		i = m
	}
}
