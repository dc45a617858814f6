package scheduler

// Nodes that take work sit in doubly linked buckets keyed by GPU type, pool
// and free GPUs, so best fit starts at the smallest bucket that fits and
// never sorts nodes.

func (s *state) bucketKey(t int32, pool int8, free int32) int {
	return (int(t)*2+int(pool))*int(s.maxGPUs+1) + int(free)
}

func poolIndex(p Pool) int8 {
	if p == PoolSpot {
		return 1
	}
	return 0
}

// link appends a schedulable node to the tail of its bucket.
func (s *state) link(k int32) {
	ns := &s.nodes[k]
	b := s.bucketKey(ns.typ, ns.pool, max(ns.free, 0))
	ns.prev, ns.next = s.bTail[b], -1
	if s.bTail[b] >= 0 {
		s.nodes[s.bTail[b]].next = k
	} else {
		s.bHead[b] = k
	}
	s.bTail[b] = k
}

func (s *state) unlink(k int32) {
	ns := &s.nodes[k]
	b := s.bucketKey(ns.typ, ns.pool, max(ns.free, 0))
	if ns.prev >= 0 {
		s.nodes[ns.prev].next = ns.next
	} else {
		s.bHead[b] = ns.next
	}
	if ns.next >= 0 {
		s.nodes[ns.next].prev = ns.prev
	} else {
		s.bTail[b] = ns.prev
	}
	ns.prev, ns.next = -1, -1
}

// take moves gpus, cpu and memory of one replica onto (sign 1) or off
// (sign -1) node k, keeping buckets and per-type free counts right.
func (s *state) take(k int32, gpus int32, cpu, mem int64, sign int32) {
	ns := &s.nodes[k]
	listed := ns.typ >= 0 && !ns.node.Unschedulable
	if listed {
		s.unlink(k)
		s.freeGPU[2*ns.typ+int32(ns.pool)] -= sign * gpus
	}
	ns.free -= sign * gpus
	ns.freeCPU -= int64(sign) * cpu
	ns.freeMem -= int64(sign) * mem
	if listed {
		s.link(k)
	}
}
