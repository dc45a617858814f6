package scheduler

import (
	"math"
	"slices"
	"strings"
	"time"
)

// unknownDuration stands in for a running job's missing estimate when the
// scheduler needs an end time (reservations, explanations).
const unknownDuration = 24 * time.Hour

// nodeState is a node's remaining capacity during one Schedule call.
type nodeState struct {
	node    *Node
	typ     int32 // index into state.types, -1 for nodes without GPUs
	pool    int8  // 0 on-demand, 1 spot
	free    int32
	freeCPU int64
	freeMem int64
	// prev and next link the node into its (type, pool, free) bucket.
	prev, next int32
	// allocs on the node (indices into state.allocs), stopped ones included.
	allocs []int32
	// cand: GPUs of the node's preemption candidates (running before this
	// call, not stopping): all of them, and the preemptible ones per class.
	cand    int32
	candPre [4]int32
	// ends caches the estimated ends of the node's allocations (nodeEnds).
	ends   []endGPUs
	endsOK bool
	// lastEnd is the latest estimated end of the node's live allocations.
	lastEnd int64
	// A reservation: until resUntil the node keeps resNeed GPUs for job resFor.
	resUntil int64
	resNeed  int32
	resFor   int32
}

// allocState is a running or just-admitted job during one Schedule call.
type allocState struct {
	job         *Job
	team        int32
	typ         int32
	nodes       []int32
	gpus        int32 // per replica
	start, ckpt int64
	end         int64 // estimated end
	terminating bool
	gone        bool // preempted in this call
	pending     int32
}

// teamState is a team's quota and use during one Schedule call.
type teamState struct {
	name    string
	weight  float64
	known   bool
	nominal []int32 // per GPU type
	limit   []int32 // borrowing limit per GPU type; Unlimited or a count
	used    []int32
	// candidate[t][p]: GPUs of type t held by live, non-terminating
	// preemptible allocations of priority p (preemption's upper bound).
	candidate [][4]int32
	liveUsed  []int32 // used minus terminating
	usedCPU   int64
	usedMem   int64
	share     float64
	queue     []int32 // pending job indices in serving order
	head      int
	// heap key of the head job
	hkClass int8
	hkPrio  int8
	hkShare float64
	hkOrder int32
	hpos    int32
}

// jobResult is what happened to a pending job.
type jobResult struct {
	admitted    bool
	preempting  bool
	reason      Reason
	detail      string
	reservedFor int32 // the job whose reservation kept this one off free nodes
	reserving   bool  // this job holds a reservation
	borrowed    int32
	deferred    bool // could preempt, but room frees within PreemptWait
	victims     []string
	nodes       []int32
}

// state is the mutable scratch copy of a snapshot that one Schedule call
// works on. The snapshot itself is never written.
type state struct {
	snap *Snapshot
	pol  Policy
	now  int64

	types   []string
	typeIdx map[string]int32
	nodes   []nodeState
	nodeIdx map[string]int32
	maxGPUs int32
	// bucket heads/tails, indexed by bucketKey(type, pool, free).
	bHead, bTail []int32
	byType       [][]int32 // node indices per GPU type, in name order
	capGPU       []int32   // per type
	freeGPU      []int32   // per type×2+pool, schedulable nodes only
	capCPU       int64
	capMem       int64
	// static maxima per type, for the cheap "can it ever fit" check
	maxNodeGPU, maxNodeGPUMem []int64
	maxNodeCPU, maxNodeMem    []int64

	teams   []teamState
	teamIdx map[string]int32

	allocs []allocState

	jobs    []Job // == snap.Pending
	jobTeam []int32
	jobType []int32
	// order is each pending job's submission rank (ties by ID).
	order   []int32
	results []jobResult
	// preemptingFor counts terminating allocations making room for a job.
	preemptingFor map[string][]string

	gen          []int32 // per GPU type: bumps when preemption may have become easier
	preemptMemo  map[memoKey]memoVal
	reservations int

	heap      []int32
	admitted  []int32
	preempts  []Preemption
	blocked   int32
	shapeMemo []shapeDetail
	teamEnds  [][]endGPUs
	// capVer bumps whenever a GPU type's capacity changes hands; it keys
	// the cache of estimated fit times.
	capVer    []int32
	fitsCache map[fitsKey]cachedAt

	// reusable buffers
	buf          []int32
	ends         []endGPUs
	cands        []timedNode
	victims      []victim
	chosen       []victim
	best         []victim
	chosenOnNode []victim
	removed      []int32 // per team, during a victim search
}

type memoKey struct {
	team   int32
	typ    int32
	prio   int8
	within bool
}

type memoVal struct {
	gen      int32
	gpus     int32
	replicas int32
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// newState indexes the snapshot: GPU types, nodes in their free-capacity
// buckets, teams and their quotas, running allocations and their usage.
func newState(snap *Snapshot, pol Policy) *state {
	if pol.PackingCandidates <= 0 {
		pol.PackingCandidates = 8
	}
	if pol.ReserveAfter > 0 && pol.MaxReservations <= 0 {
		pol.MaxReservations = 1
	}
	s := &state{snap: snap, pol: pol, now: snap.Now.UnixNano(), jobs: snap.Pending}

	// GPU types present on nodes, sorted; nodes without GPUs form the
	// type "" (sorted first), which only CPU-only jobs use.
	for i := range snap.Nodes {
		if t := nodeType(&snap.Nodes[i]); !slices.Contains(s.types, t) {
			s.types = append(s.types, t)
		}
	}
	slices.Sort(s.types)
	s.typeIdx = make(map[string]int32, len(s.types))
	for i, t := range s.types {
		s.typeIdx[t] = int32(i)
	}
	nt := len(s.types)
	s.capGPU = make([]int32, nt)
	s.freeGPU = make([]int32, 2*nt)
	s.byType = make([][]int32, nt)
	s.maxNodeGPU = make([]int64, nt)
	s.maxNodeGPUMem = make([]int64, nt)
	s.maxNodeCPU = make([]int64, nt)
	s.maxNodeMem = make([]int64, nt)

	// Nodes in name order.
	order := make([]int32, len(snap.Nodes))
	for i := range order {
		order[i] = int32(i)
		if g := int32(snap.Nodes[i].GPUs); g > s.maxGPUs {
			s.maxGPUs = g
		}
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(snap.Nodes[a].Name, snap.Nodes[b].Name) })
	s.nodes = make([]nodeState, len(snap.Nodes))
	s.nodeIdx = make(map[string]int32, len(snap.Nodes))
	allocsPerNode := 0
	if len(snap.Nodes) > 0 {
		allocsPerNode = len(snap.Running)/len(snap.Nodes) + 2
	}
	allocBacking := make([]int32, 0, len(snap.Nodes)*allocsPerNode)
	for k, oi := range order {
		n := &snap.Nodes[oi]
		ns := &s.nodes[k]
		*ns = nodeState{node: n, typ: -1, pool: poolIndex(n.Pool), free: int32(max(n.GPUs, 0)),
			freeCPU: n.CPUMillis, freeMem: n.MemoryBytes, prev: -1, next: -1, resFor: -1}
		ns.allocs = allocBacking[len(allocBacking) : len(allocBacking) : len(allocBacking)+allocsPerNode]
		allocBacking = allocBacking[:len(allocBacking)+allocsPerNode]
		if _, dup := s.nodeIdx[n.Name]; !dup {
			s.nodeIdx[n.Name] = int32(k)
		}
		s.capCPU += n.CPUMillis
		s.capMem += n.MemoryBytes
		if t, ok := s.typeIdx[nodeType(n)]; ok {
			ns.typ = t
			s.capGPU[t] += int32(n.GPUs)
			s.byType[t] = append(s.byType[t], int32(k))
			s.maxNodeGPU[t] = max(s.maxNodeGPU[t], int64(n.GPUs))
			s.maxNodeGPUMem[t] = max(s.maxNodeGPUMem[t], n.GPUMemoryBytes)
			s.maxNodeCPU[t] = max(s.maxNodeCPU[t], n.CPUMillis)
			s.maxNodeMem[t] = max(s.maxNodeMem[t], n.MemoryBytes)
		}
	}
	nb := nt * 2 * int(s.maxGPUs+1)
	s.bHead = make([]int32, nb)
	s.bTail = make([]int32, nb)
	for i := range s.bHead {
		s.bHead[i], s.bTail[i] = -1, -1
	}

	// Teams, sorted by name; teams only named by jobs get no quota.
	s.teamIdx = make(map[string]int32, len(snap.Teams))
	names := make([]string, 0, len(snap.Teams))
	for i := range snap.Teams {
		if _, dup := s.teamIdx[snap.Teams[i].Name]; !dup {
			s.teamIdx[snap.Teams[i].Name] = int32(i)
			names = append(names, snap.Teams[i].Name)
		}
	}
	for i := range snap.Running {
		s.addTeamName(&names, snap.Running[i].Job.Team)
	}
	for i := range snap.Pending {
		s.addTeamName(&names, snap.Pending[i].Team)
	}
	slices.Sort(names)
	s.teams = make([]teamState, len(names))
	quotaBacking := make([]int32, 4*nt*len(names))
	candBacking := make([][4]int32, nt*len(names))
	for i, name := range names {
		ts := &s.teams[i]
		ts.name, ts.weight, ts.hpos = name, 1, -1
		q := quotaBacking[4*nt*i : 4*nt*(i+1)]
		ts.nominal, ts.limit, ts.used, ts.liveUsed = q[0:nt:nt], q[nt:2*nt:2*nt], q[2*nt:3*nt:3*nt], q[3*nt:]
		ts.candidate = candBacking[nt*i : nt*(i+1) : nt*(i+1)]
		if ti, ok := s.teamIdx[name]; ok && int(ti) < len(snap.Teams) && snap.Teams[ti].Name == name {
			tm := &snap.Teams[ti]
			ts.known = true
			if tm.Weight > 0 {
				ts.weight = tm.Weight
			}
			for _, gq := range tm.Quota {
				if t, ok := s.typeIdx[gq.GPUType]; ok {
					ts.nominal[t] = int32(max(gq.Nominal, 0))
					if gq.BorrowingLimit < 0 {
						ts.limit[t] = Unlimited
					} else {
						ts.limit[t] = int32(gq.BorrowingLimit)
					}
				}
			}
		}
	}
	for i := range names {
		s.teamIdx[names[i]] = int32(i)
	}

	// Running allocations take their capacity.
	s.allocs = make([]allocState, 0, len(snap.Running)+len(snap.Pending)/4+16)
	s.preemptingFor = map[string][]string{}
	for i := range snap.Running {
		a := &snap.Running[i]
		s.addRunning(a)
	}
	// Buckets hold schedulable nodes by remaining GPUs.
	for k := range s.nodes {
		ns := &s.nodes[k]
		if ns.typ >= 0 && !ns.node.Unschedulable {
			s.freeGPU[2*ns.typ+int32(ns.pool)] += ns.free
			s.link(int32(k))
		}
	}
	for i := range s.teams {
		s.teams[i].share = s.dominantShare(&s.teams[i])
	}
	s.preemptMemo = map[memoKey]memoVal{}
	s.gen = make([]int32, nt)
	s.capVer = make([]int32, nt)
	return s
}

func (s *state) addTeamName(names *[]string, name string) {
	if _, ok := s.teamIdx[name]; !ok {
		s.teamIdx[name] = math.MaxInt32
		*names = append(*names, name)
	}
}

// addRunning records a snapshot allocation; replicas on unknown nodes hold
// no capacity here (the node left the cluster).
func (s *state) addRunning(a *Allocation) {
	j := &a.Job
	as := allocState{job: j, team: s.teamIdx[j.Team], typ: -1, gpus: int32(max(j.GPUs, 0)),
		start: nanos(a.StartedAt), terminating: a.Terminating, pending: -1}
	if t, ok := s.typeIdx[j.GPUType]; ok {
		as.typ = t
	}
	as.ckpt = as.start
	if j.Checkpointable && !a.LastCheckpointAt.IsZero() && nanos(a.LastCheckpointAt) > as.start {
		as.ckpt = nanos(a.LastCheckpointAt)
	}
	as.end = s.estimatedEnd(as.start, j.EstimatedDuration)
	idx := int32(len(s.allocs))
	as.nodes = make([]int32, 0, len(a.Nodes))
	for _, name := range a.Nodes {
		ni, ok := s.nodeIdx[name]
		if !ok {
			continue
		}
		as.nodes = append(as.nodes, ni)
		ns := &s.nodes[ni]
		if ns.typ == as.typ {
			ns.free -= as.gpus
		}
		ns.freeCPU -= j.CPUMillis
		ns.freeMem -= j.MemoryBytes
		ns.allocs = append(ns.allocs, idx)
		ns.lastEnd = max(ns.lastEnd, as.end)
	}
	s.allocs = append(s.allocs, as)
	s.charge(&s.allocs[idx], 1)
	s.candidate(&s.allocs[idx], 1)
	if a.Terminating && a.PreemptedFor != "" {
		s.preemptingFor[a.PreemptedFor] = append(s.preemptingFor[a.PreemptedFor], j.ID)
	}
}

// nodeType is the GPU type a node offers, "" for a node without GPUs
// (a CPU-only machine, such as a laptop running the local executor).
func nodeType(n *Node) string {
	if n.GPUs > 0 && n.GPUType != "" {
		return n.GPUType
	}
	return ""
}
