package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Schedule decides, for one snapshot, which pending jobs start where, which
// running jobs are preempted for whom, and why every other job waits.
//
//  1. Index the snapshot: GPU types, nodes bucketed by free GPUs per type and
//     pool, teams with their quotas, running allocations and their usage.
//  2. Queue each team's valid pending jobs: priority class first, then (with
//     ShortestFirst) shortest estimate among jobs not yet waiting
//     AgeAfter, then submission time.
//  3. Serve the teams' queue heads from a heap: jobs that stay within their
//     team's nominal quota first (by priority, then submission), then
//     borrowers by weighted dominant-resource share (with FairSharing), then
//     priority, then submission.
//  4. For each job: check quota and borrowing limit; place all replicas by
//     best fit or none; else preempt borrowed or preemptible work it is
//     entitled to; else, if it is large and has waited ReserveAfter, reserve
//     the nodes that free up first.
//  5. Explain every job left pending and report each team's usage.
//
// The snapshot is not modified; the same snapshot and policy always give the
// same decision.
func Schedule(snap Snapshot, pol Policy) Decision {
	s := newState(&snap, pol) // 1
	s.queue()                 // 2
	s.serve()                 // 3, 4
	return s.decide()         // 5
}

// queue validates the pending jobs and sorts them into team queues.
func (s *state) queue() {
	n := len(s.jobs)
	s.results = make([]jobResult, n)
	s.jobTeam = make([]int32, n)
	s.jobType = make([]int32, n)
	s.order = make([]int32, n)
	// Submission order: time, then ID, then position.
	bySubmit := make([]submitKey, n)
	for i := range s.jobs {
		bySubmit[i] = submitKey{nanos(s.jobs[i].SubmittedAt), int32(i)}
	}
	bySubmission := func(a, b submitKey) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return cmp.Or(strings.Compare(s.jobs[a.i].ID, s.jobs[b.i].ID), cmp.Compare(a.i, b.i))
	}
	// A controller that reads pending jobs in submission order (ORDER BY
	// submitted_at, id) saves this sort.
	if !slices.IsSortedFunc(bySubmit, bySubmission) {
		slices.SortFunc(bySubmit, bySubmission)
	}
	seen := make(map[string]struct{}, n+len(s.allocs))
	for i := range s.allocs {
		seen[s.allocs[i].job.ID] = struct{}{}
	}
	counts := make([]int32, len(s.teams))
	for rank, sk := range bySubmit {
		i := sk.i
		s.order[i] = int32(rank)
		j := &s.jobs[i]
		r := &s.results[i]
		r.reservedFor = -1
		s.jobTeam[i] = s.teamIdx[j.Team]
		s.jobType[i] = -1
		if t, ok := s.typeIdx[j.GPUType]; ok {
			s.jobType[i] = t
		}
		if d := validate(j); d != "" {
			r.reason, r.detail = ReasonInvalid, d
			continue
		}
		if _, dup := seen[j.ID]; dup {
			r.reason, r.detail = ReasonInvalid, fmt.Sprintf("job ID %q is used by another job; give every job a unique ID", j.ID)
			continue
		}
		seen[j.ID] = struct{}{}
		if j.GPUs > 0 && s.jobType[i] < 0 {
			r.reason, r.detail = ReasonUnplaceable, fmt.Sprintf("no node has %s GPUs (the cluster has %s); choose one of those GPU types", j.GPUType, typeList(s.types))
			continue
		}
		counts[s.jobTeam[i]]++
	}
	// Each team's queue sorts on one packed key: class (high first), jobs
	// waiting past AgeAfter first, shortest estimate, submission rank.
	for t := range s.teams {
		s.teams[t].queue = make([]int32, 0, counts[t])
	}
	if n > rankMask {
		// Too many jobs to rank inside the key: sort each team's queue,
		// built in submission order, stably by the rest of the key.
		for _, sk := range bySubmit {
			if s.results[sk.i].reason == "" {
				ts := &s.teams[s.jobTeam[sk.i]]
				ts.queue = append(ts.queue, sk.i)
			}
		}
		for t := range s.teams {
			slices.SortStableFunc(s.teams[t].queue, func(a, b int32) int { return cmp.Compare(s.queueKey(a, 0), s.queueKey(b, 0)) })
		}
		return
	}
	keys := make([]uint64, 0, n)
	byRank := make([]int32, n)
	for rank, sk := range bySubmit {
		byRank[rank] = sk.i
		if s.results[sk.i].reason == "" {
			keys = append(keys, s.queueKey(sk.i, rank))
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		i := byRank[k&rankMask]
		ts := &s.teams[s.jobTeam[i]]
		ts.queue = append(ts.queue, i)
	}
}

type submitKey struct {
	at int64
	i  int32
}

const (
	rankBits = 24
	rankMask = 1<<rankBits - 1
	estBits  = 25 // seconds: estimates beyond 388 days sort as equal
	teamBits = 64 - 2 - 1 - estBits - rankBits
)

// queueKey packs team, class, age, estimate and rank into one sortable
// number. Team indexes beyond 2^12 share bits, which only interleaves teams
// in the sorted keys; each job still lands in its own team's queue.
func (s *state) queueKey(i int32, rank int) uint64 {
	j := &s.jobs[i]
	key := uint64(s.jobTeam[i]) & (1<<teamBits - 1)
	key = key<<2 | uint64(PriorityInteractive-j.Priority)
	aged := !s.pol.ShortestFirst || (s.pol.AgeAfter > 0 && s.now-nanos(j.SubmittedAt) >= int64(s.pol.AgeAfter))
	est := uint64(0)
	if !aged {
		est = 1<<estBits - 1
		if d := j.EstimatedDuration; d > 0 {
			est = min(uint64(d/time.Second), 1<<estBits-2)
		}
	}
	var agedBit uint64 = 1
	if aged {
		agedBit = 0
	}
	key = key<<1 | agedBit
	key = key<<estBits | est
	return key<<rankBits | uint64(rank)&rankMask
}

// large jobs are the ones small jobs can starve: more than half of the
// biggest node of their type per replica, or several replicas. Only they
// get reservations.
func (s *state) large(ji int32) bool {
	j := &s.jobs[ji]
	return j.ReplicaCount() > 1 || 2*int64(j.GPUs) > s.maxNodeGPU[s.jobType[ji]]
}

// validate says what is wrong with a job, or "".
func validate(j *Job) string {
	switch {
	case j.ID == "":
		return "the job has no ID"
	case j.Team == "":
		return "the job names no team"
	case j.GPUs < 0:
		return fmt.Sprintf("GPUs per replica must be 0 or more (got %d)", j.GPUs)
	case j.Replicas < 0:
		return fmt.Sprintf("replicas must be 1 or more (got %d)", j.Replicas)
	case j.GPUs > 0 && j.GPUType == "":
		return "a job with GPUs must name its GPU type"
	case j.CPUMillis < 0 || j.MemoryBytes < 0 || j.GPUMemoryBytes < 0:
		return "CPU, memory and GPU memory must not be negative"
	case j.Priority < PriorityPreemptible || j.Priority > PriorityInteractive:
		return fmt.Sprintf("unknown priority class %d", j.Priority)
	}
	return ""
}

func typeList(types []string) string {
	if len(types) == 0 {
		return "no GPU nodes"
	}
	return strings.Join(types, ", ")
}

// serve first places jobs nominated by an earlier preemption, then pops
// team queue heads in order and tries each remaining job once.
func (s *state) serve() {
	for t := range s.teams {
		for _, ji := range s.teams[t].queue {
			if len(s.jobs[ji].NominatedNodes) > 0 {
				s.try(int32(t), ji)
			}
		}
	}
	h := make([]int32, 0, len(s.teams))
	s.heap = h
	for t := range s.teams {
		if len(s.teams[t].queue) > 0 {
			s.setKey(int32(t))
			s.push(int32(t))
		}
	}
	for len(s.heap) > 0 {
		ti := s.pop()
		ts := &s.teams[ti]
		ji := ts.queue[ts.head]
		ts.head++
		if r := &s.results[ji]; !r.admitted && !r.preempting {
			*r = jobResult{reservedFor: -1}
			s.try(ti, ji)
		}
		if ts.head < len(ts.queue) {
			s.setKey(ti)
			s.push(ti)
		}
	}
}

// try decides one job: quota, placement, preemption, reservation.
func (s *state) try(ti, ji int32) {
	j := &s.jobs[ji]
	r := &s.results[ji]
	if d := s.unplaceable(ji); d != "" {
		r.reason, r.detail = ReasonUnplaceable, d
		return
	}
	ts := &s.teams[ti]
	t := s.jobType[ji]
	within := true
	if j.GPUs > 0 {
		need := int32(j.TotalGPUs())
		within = ts.used[t]+need <= ts.nominal[t]
		if !within {
			if ts.nominal[t] == 0 && (ts.limit[t] == 0 || !s.pol.Borrowing) {
				r.reason = ReasonNoQuota
				return
			}
			if !s.pol.Borrowing || (ts.limit[t] != Unlimited && ts.used[t]+need > ts.nominal[t]+ts.limit[t]) {
				r.reason = ReasonQuotaLimit
				return
			}
		}
	}
	s.blocked = -1
	if s.place(ji) {
		s.admit(ji, false)
		r.admitted = true
		return
	}
	r.reservedFor = s.blocked
	if v := s.preemptingFor[j.ID]; len(v) > 0 {
		r.preempting, r.reason, r.victims = true, ReasonPreempting, v
		return
	}
	if s.pol.Preemption && j.GPUs > 0 && s.preempt(ti, ji, within) {
		return
	}
	if s.pol.ReserveAfter > 0 && s.reservations < s.pol.MaxReservations && j.GPUs > 0 &&
		s.now-nanos(j.SubmittedAt) >= int64(s.pol.ReserveAfter) && s.large(ji) {
		s.reserve(ji)
	}
}
