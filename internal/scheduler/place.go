package scheduler

import (
	"fmt"
	"slices"
)

// pools returns the node pools a job may use, preferred first, and how many.
func (s *state) pools(j *Job) (p [2]int8, n int) {
	if j.IsPreemptible() {
		return [2]int8{1, 0}, 2
	}
	if s.pol.NonPreemptibleOnSpot {
		return [2]int8{0, 1}, 2
	}
	return [2]int8{0, 0}, 1
}

// typeRange is the GPU types a job may use: its own, or all for CPU-only jobs.
func (s *state) typeRange(ji int32) (lo, hi int32) {
	if t := s.jobType[ji]; t >= 0 && s.jobs[ji].GPUs > 0 {
		return t, t + 1
	}
	return 0, int32(len(s.types))
}

// jobEnd is when a job started now is estimated to end.
func (s *state) jobEnd(j *Job) int64 {
	if j.EstimatedDuration <= 0 {
		return s.now + int64(unknownDuration)
	}
	return s.now + int64(j.EstimatedDuration)
}

// staticFits reports whether an empty node k could ever hold one replica.
func (s *state) staticFits(j *Job, k int32) bool {
	ns := &s.nodes[k]
	n := ns.node
	if n.Unschedulable || ns.typ < 0 || int64(n.GPUs) < int64(j.GPUs) || n.CPUMillis < j.CPUMillis || n.MemoryBytes < j.MemoryBytes {
		return false
	}
	if j.GPUs > 0 && (n.GPUType != j.GPUType || n.GPUMemoryBytes < j.GPUMemoryBytes) {
		return false
	}
	if ns.pool == 1 && !j.IsPreemptible() && !s.pol.NonPreemptibleOnSpot {
		return false
	}
	return selects(j, n)
}

// selects checks a job's node selector and tolerations against a node.
func selects(j *Job, n *Node) bool {
	for k, v := range j.NodeSelector {
		if n.Labels[k] != v {
			return false
		}
	}
	for _, t := range n.Taints {
		ok := false
		for _, tol := range j.Tolerations {
			if tol.Key == t.Key && (tol.Value == "" || tol.Value == t.Value) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// unplaceable says why no node could ever hold the job, or "". The answer is
// memoised per job shape for jobs without selectors or tolerations.
func (s *state) unplaceable(ji int32) string {
	j := &s.jobs[ji]
	key := s.shape(ji)
	plain := len(j.NodeSelector) == 0 && len(j.Tolerations) == 0
	if plain {
		for i := range s.shapeMemo { // few shapes: a scan beats hashing
			if s.shapeMemo[i].key == key {
				return s.shapeMemo[i].detail
			}
		}
	}
	lo, hi := s.typeRange(ji)
	d := ""
	found := false
	for t := lo; t < hi && !found; t++ {
		for _, k := range s.byType[t] {
			if s.staticFits(j, k) {
				found = true
				break
			}
		}
	}
	if !found {
		d = s.whyUnplaceable(j, lo, hi)
	}
	if plain && len(s.shapeMemo) < 256 {
		s.shapeMemo = append(s.shapeMemo, shapeDetail{key, d})
	}
	return d
}

// shape is what staticFits looks at, for jobs without selectors.
func (s *state) shape(ji int32) shapeKey {
	j := &s.jobs[ji]
	return shapeKey{typ: s.jobType[ji], gpus: int32(j.GPUs), cpu: j.CPUMillis, mem: j.MemoryBytes, gpuMem: j.GPUMemoryBytes, preemptible: j.IsPreemptible()}
}

type shapeDetail struct {
	key    shapeKey
	detail string
}

type shapeKey struct {
	typ         int32
	gpus        int32
	cpu, mem    int64
	gpuMem      int64
	preemptible bool
}

// whyUnplaceable names the first requirement no node meets.
func (s *state) whyUnplaceable(j *Job, lo, hi int32) string {
	var maxG, maxGM, maxC, maxM int64
	spotOnly := true
	for t := lo; t < hi; t++ {
		maxG, maxGM = max(maxG, s.maxNodeGPU[t]), max(maxGM, s.maxNodeGPUMem[t])
		maxC, maxM = max(maxC, s.maxNodeCPU[t]), max(maxM, s.maxNodeMem[t])
		for _, k := range s.byType[t] {
			if s.nodes[k].pool == 0 {
				spotOnly = false
			}
		}
	}
	what := "GPU"
	if j.GPUs > 0 {
		what = j.GPUType
	}
	switch {
	case hi == lo:
		return "the cluster has no nodes"
	case int64(j.GPUs) > maxG:
		return fmt.Sprintf("it asks for %d GPUs per replica, but %s nodes have at most %d; split the job into replicas of at most %d GPUs", j.GPUs, what, maxG, maxG)
	case j.GPUs > 0 && j.GPUMemoryBytes > maxGM:
		return fmt.Sprintf("it asks for GPUs with %s of memory, but %s GPUs have at most %s; use a GPU type with more memory or lower the GPU memory request", bytesString(j.GPUMemoryBytes), what, bytesString(maxGM))
	case j.CPUMillis > maxC:
		return fmt.Sprintf("it asks for %s CPUs per replica, but %s nodes have at most %s; lower the CPU request or use more replicas", milliString(j.CPUMillis), what, milliString(maxC))
	case j.MemoryBytes > maxM:
		return fmt.Sprintf("it asks for %s of memory per replica, but %s nodes have at most %s; lower the memory request or use more replicas", bytesString(j.MemoryBytes), what, bytesString(maxM))
	case spotOnly && !j.IsPreemptible() && !s.pol.NonPreemptibleOnSpot:
		return fmt.Sprintf("all %s nodes are spot capacity, which only preemptible jobs may use; mark the job preemptible", what)
	case len(j.NodeSelector) > 0 || len(j.Tolerations) > 0:
		return fmt.Sprintf("no %s node matches the job's node selector and tolerations together with its size; check the selector's labels", what)
	}
	return fmt.Sprintf("no single %s node has %d GPUs, %s CPUs and %s of memory free when empty; lower the request", what, j.GPUs, milliString(j.CPUMillis), bytesString(j.MemoryBytes))
}

func bytesString(b int64) string {
	const gi = 1 << 30
	if b%gi == 0 || b >= 10*gi {
		return fmt.Sprintf("%dGi", b/gi)
	}
	return fmt.Sprintf("%.1fGi", float64(b)/gi)
}

func milliString(m int64) string {
	if m%1000 == 0 {
		return fmt.Sprint(m / 1000)
	}
	return fmt.Sprintf("%dm", m)
}

// fits reports whether one replica of job ji fits node k now. A reserved
// node takes a job only if it leaves the reserved GPUs free or ends before
// the reservation starts; otherwise blocked records the reserving job.
func (s *state) fits(ji int32, j *Job, k int32) bool {
	ns := &s.nodes[k]
	if ns.free < int32(j.GPUs) || ns.freeCPU < j.CPUMillis || ns.freeMem < j.MemoryBytes {
		return false
	}
	if j.GPUs > 0 && ns.node.GPUMemoryBytes < j.GPUMemoryBytes {
		return false
	}
	if (len(j.NodeSelector) > 0 || len(ns.node.Taints) > 0) && !selects(j, ns.node) {
		return false
	}
	if ns.resFor >= 0 && ns.resFor != ji && ns.free-int32(j.GPUs) < ns.resNeed && s.jobEnd(j) > ns.resUntil {
		s.blocked = ns.resFor
		return false
	}
	return true
}

// bestNode picks the node for one replica: preferred pool first, then the
// fewest free GPUs that fit (best fit keeps whole nodes free for large
// jobs), then, among the first PackingCandidates fitting nodes of that size,
// the one whose running jobs end closest to this job's estimated end (so
// nodes drain together). It returns -1 if no node fits.
func (s *state) bestNode(ji int32) int32 {
	j := &s.jobs[ji]
	pools, np := s.pools(j)
	lo, hi := s.typeRange(ji)
	end := s.jobEnd(j)
	for pi := 0; pi < np; pi++ {
		for t := lo; t < hi; t++ {
			for f := int32(j.GPUs); f <= s.maxGPUs; f++ {
				best, bestScore, found := int32(-1), int64(0), 0
				for k := s.bHead[s.bucketKey(t, pools[pi], f)]; k >= 0; k = s.nodes[k].next {
					if !s.fits(ji, j, k) {
						continue
					}
					score := s.nodes[k].lastEnd - end
					if score < 0 {
						score = -score
					}
					if best < 0 || score < bestScore {
						best, bestScore = k, score
					}
					if found++; found >= s.pol.PackingCandidates || j.EstimatedDuration <= 0 {
						break
					}
				}
				if best >= 0 {
					return best
				}
			}
		}
	}
	return -1
}

// nominated returns the first of the job's nominated nodes that fits a
// replica now, or -1.
func (s *state) nominated(ji int32, j *Job) int32 {
	for _, name := range j.NominatedNodes {
		if k, ok := s.nodeIdx[name]; ok && s.nodes[k].typ >= 0 && !s.nodes[k].node.Unschedulable && s.staticFits(j, k) && s.fits(ji, j, k) {
			return k
		}
	}
	return -1
}

// place puts every replica of a job on a node, or none; the chosen nodes are
// left in s.buf.
func (s *state) place(ji int32) bool {
	j := &s.jobs[ji]
	s.buf = s.buf[:0]
	for r := 0; r < j.ReplicaCount(); r++ {
		k := s.nominated(ji, j)
		if k < 0 {
			k = s.bestNode(ji)
		}
		if k < 0 {
			for _, k := range s.buf {
				s.take(k, int32(j.GPUs), j.CPUMillis, j.MemoryBytes, -1)
			}
			s.buf = s.buf[:0]
			return false
		}
		s.take(k, int32(j.GPUs), j.CPUMillis, j.MemoryBytes, 1)
		s.buf = append(s.buf, k)
	}
	return true
}

// admit records the replicas in s.buf (already taken from their nodes) as an
// allocation of job ji, charged to its team.
func (s *state) admit(ji int32, preempting bool) {
	j := &s.jobs[ji]
	ti := s.jobTeam[ji]
	a := allocState{job: j, team: ti, typ: s.jobType[ji], gpus: int32(j.GPUs), start: s.now, ckpt: s.now,
		end: s.jobEnd(j), pending: ji, nodes: slices.Clone(s.buf)}
	if j.GPUs == 0 {
		a.typ = -1
	}
	idx := int32(len(s.allocs))
	for _, k := range a.nodes {
		ns := &s.nodes[k]
		ns.allocs = append(ns.allocs, idx)
		ns.endsOK = false
		ns.lastEnd = max(ns.lastEnd, a.end)
		if ns.resFor == ji {
			ns.resFor, ns.resUntil, ns.resNeed = -1, 0, 0
		}
	}
	ts := &s.teams[ti]
	wasBorrowing := a.typ >= 0 && ts.used[a.typ] > ts.nominal[a.typ]
	if a.typ >= 0 {
		s.capVer[a.typ]++
	}
	s.allocs = append(s.allocs, a)
	s.charge(&s.allocs[idx], 1)
	ts.share = s.dominantShare(ts)
	s.results[ji].nodes = a.nodes
	if a.typ >= 0 {
		s.results[ji].borrowed = min(max(ts.used[a.typ]-ts.nominal[a.typ], 0), int32(j.TotalGPUs()))
	}
	if !preempting {
		s.admitted = append(s.admitted, ji)
	}
	// Taking capacity makes preemption no easier, unless the team now
	// borrows: then its running jobs become reclaimable.
	if a.typ >= 0 && !wasBorrowing && ts.used[a.typ] > ts.nominal[a.typ] {
		s.gen[a.typ]++
	}
}
