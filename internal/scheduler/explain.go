package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// decide turns the scratch state into a Decision.
func (s *state) decide() Decision {
	d := Decision{Admit: make([]Admission, 0, len(s.admitted)), Preempt: s.preempts}
	for _, ji := range s.admitted {
		j := &s.jobs[ji]
		r := &s.results[ji]
		nodes := make([]string, len(r.nodes))
		for i, k := range r.nodes {
			nodes[i] = s.nodes[k].node.Name
		}
		d.Admit = append(d.Admit, Admission{JobID: j.ID, Team: j.Team, Nodes: nodes, Borrowed: int(r.borrowed)})
	}
	d.Pending = make([]Pending, 0, len(s.jobs)-len(s.admitted))
	for i := range s.jobs {
		if !s.results[i].admitted {
			d.Pending = append(d.Pending, s.pending(int32(i)))
		}
	}
	d.Teams = s.usage()
	return d
}

// pending gathers the facts about a job left pending.
func (s *state) pending(ji int32) Pending {
	j := &s.jobs[ji]
	r := &s.results[ji]
	p := Pending{JobID: j.ID, Team: j.Team, Reason: r.reason, Detail: r.detail, GPUType: j.GPUType, Deferred: r.deferred, Reserving: r.reserving,
		PerReplica: j.GPUs, Replicas: j.ReplicaCount(), Victims: r.victims, Since: j.SubmittedAt, Now: s.snap.Now}
	if r.preempting {
		for _, k := range r.nodes {
			p.Nodes = append(p.Nodes, s.nodes[k].node.Name)
		}
	}
	if r.reason == ReasonInvalid || r.reason == ReasonUnplaceable {
		return p
	}
	t := s.jobType[ji]
	ts := &s.teams[s.jobTeam[ji]]
	need := int32(j.TotalGPUs())
	if t < 0 || j.GPUs == 0 {
		if p.Reason == "" {
			p.Reason = ReasonNoCapacity
		}
		return p
	}
	p.TeamUsed, p.TeamNominal = int(ts.used[t]), int(ts.nominal[t])
	limit := ts.limit[t]
	if !s.pol.Borrowing {
		limit = 0
	}
	p.TeamBorrowingLimit = int(limit)
	pools, np := s.pools(j)
	for i := 0; i < np; i++ {
		p.Free += int(s.freeGPU[2*t+int32(pools[i])])
		for f := s.maxGPUs; f > 0; f-- {
			if s.bHead[s.bucketKey(t, pools[i], f)] >= 0 {
				p.LargestFree = max(p.LargestFree, int(f))
				break
			}
		}
	}
	room := int32(1 << 30)
	if limit != Unlimited {
		room = ts.nominal[t] + limit - ts.used[t]
	}
	p.Borrowable = max(0, min(int(room), p.Free))
	switch {
	case p.Reason == ReasonQuotaLimit:
		excess := ts.used[t] + need - ts.nominal[t] - max(limit, 0)
		p.FitsAt = s.teamFreesAt(s.jobTeam[ji], t, excess)
	case p.Reason == "":
		switch {
		case r.reservedFor >= 0 && p.Free >= int(need):
			p.Reason, p.ReservedFor = ReasonReserved, s.jobs[r.reservedFor].ID
		case p.Free >= int(need):
			p.Reason = ReasonFragmented
		default:
			p.Reason = ReasonNoCapacity
		}
		p.FitsAt = s.fitsAt(ji)
	}
	return p
}

type fitsKey struct {
	typ, gpus, replicas int32
	preemptible         bool
}

// fitsAt estimates when job ji's replicas fit, from running jobs'
// estimated ends (zero: unknown).
func (s *state) fitsAt(ji int32) time.Time {
	at := s.fitsAtNanos(ji)
	if at <= 0 {
		return time.Time{}
	}
	return time.Unix(0, at).UTC()
}

type cachedAt struct {
	ver int32
	at  int64
}

// fitsAtNanos estimates when job ji's GPUs are free (earliest by GPU type,
// count and pool), cached per such shape until the capacity of the GPU
// type changes hands.
func (s *state) fitsAtNanos(ji int32) int64 {
	j := &s.jobs[ji]
	if s.jobType[ji] < 0 {
		return s.earliest(ji, false, true)
	}
	key := fitsKey{s.jobType[ji], int32(j.GPUs), int32(j.ReplicaCount()), j.IsPreemptible()}
	ver := s.capVer[s.jobType[ji]]
	if c, ok := s.fitsCache[key]; ok && c.ver == ver {
		return c.at
	}
	if s.fitsCache == nil {
		s.fitsCache = map[fitsKey]cachedAt{}
	}
	at := s.earliest(ji, false, true)
	s.fitsCache[key] = cachedAt{ver, at}
	return at
}

// teamFreesAt estimates when team ti's running jobs of type t have released
// n GPUs.
func (s *state) teamFreesAt(ti, t int32, n int32) time.Time {
	if s.teamEnds == nil {
		s.teamEnds = make([][]endGPUs, len(s.teams)*len(s.types))
		for i := range s.allocs {
			a := &s.allocs[i]
			if !a.gone && a.typ >= 0 {
				k := int(a.team)*len(s.types) + int(a.typ)
				s.teamEnds[k] = append(s.teamEnds[k], endGPUs{a.end, a.gpus * int32(len(a.nodes))})
			}
		}
		for _, e := range s.teamEnds {
			slices.SortFunc(e, func(a, b endGPUs) int { return cmp.Compare(a.end, b.end) })
		}
	}
	freed := int32(0)
	for _, e := range s.teamEnds[int(ti)*len(s.types)+int(t)] {
		if freed += e.gpus; freed >= n {
			return time.Unix(0, e.end).UTC()
		}
	}
	return time.Time{}
}

// usage reports each team's use of each GPU type it has quota for, uses or
// asks for.
func (s *state) usage() []TeamUsage {
	nt := len(s.types)
	pend := make([]int32, len(s.teams)*nt)
	for i := range s.jobs {
		if r := &s.results[i]; !r.admitted && !r.preempting && r.reason != ReasonInvalid && s.jobType[i] >= 0 {
			pend[int(s.jobTeam[i])*nt+int(s.jobType[i])] += int32(s.jobs[i].TotalGPUs())
		}
	}
	var out []TeamUsage
	for ti := range s.teams {
		ts := &s.teams[ti]
		for t := range s.types {
			pg := pend[ti*nt+t]
			if ts.nominal[t] == 0 && ts.used[t] == 0 && pg == 0 && ts.limit[t] == 0 {
				continue
			}
			out = append(out, TeamUsage{Team: ts.name, GPUType: s.types[t], Used: int(ts.used[t]), Nominal: int(ts.nominal[t]),
				BorrowingLimit: int(ts.limit[t]), Borrowed: int(max(0, ts.used[t]-ts.nominal[t])), Pending: int(pg), DominantShare: ts.share})
		}
	}
	return out
}

// Explain says in a sentence or two why the job waits and what would let
// it run.
func (p Pending) Explain() string {
	need := p.PerReplica * p.Replicas
	gpus := p.GPUType + " GPUs"
	var b strings.Builder
	switch p.Reason {
	case ReasonInvalid:
		return "the job is invalid: " + p.Detail
	case ReasonUnplaceable:
		return "no node can ever run this job: " + p.Detail
	case ReasonNoQuota:
		fmt.Fprintf(&b, "team %s has no quota for %s and may not borrow them; ask a platform admin for %s quota, or use a GPU type the team has quota for", p.Team, gpus, p.GPUType)
		return b.String()
	case ReasonQuotaLimit:
		fmt.Fprintf(&b, "team %s uses %d/%d nominal %s", p.Team, p.TeamUsed, p.TeamNominal, gpus)
		if p.TeamBorrowingLimit == 0 {
			fmt.Fprintf(&b, " and may not borrow beyond its quota; this job needs %d", need)
		} else {
			fmt.Fprintf(&b, " and its borrowing limit of %d more is reached; this job needs %d", p.TeamBorrowingLimit, need)
		}
		fmt.Fprintf(&b, ". It would start when enough of the team's %s free up", gpus)
		if !p.FitsAt.IsZero() {
			fmt.Fprintf(&b, " (estimated %s)", when(p.FitsAt, p.Now))
		}
		b.WriteString(", or with a larger quota")
		return b.String()
	case ReasonPreempting:
		fmt.Fprintf(&b, "making room: stopping %s (borrowed or preemptible work), which checkpoint and stop within their grace period; this job starts then", strings.Join(p.Victims, ", "))
		return b.String()
	case ReasonReserved:
		fmt.Fprintf(&b, "%d %s are free, but the nodes they are on are held for job %s, which has waited longer; jobs estimated to end before it starts may still use them", p.Free, gpus, p.ReservedFor)
	case ReasonFragmented:
		fmt.Fprintf(&b, "%d %s are free, but not %d on one node", p.Free, gpus, p.PerReplica)
		if p.Replicas > 1 {
			fmt.Fprintf(&b, " for each of its %d replicas", p.Replicas)
		}
		fmt.Fprintf(&b, " (at most %d on one node)", p.LargestFree)
	case ReasonNoCapacity:
		if p.PerReplica == 0 {
			return "no node has the CPU and memory this job asks for free; it starts when running jobs end"
		}
		fmt.Fprintf(&b, "team %s uses %d/%d nominal %s", p.Team, p.TeamUsed, p.TeamNominal, gpus)
		switch {
		case p.Deferred:
			fmt.Fprintf(&b, "; only %d are free, and rather than stop other work it waits for running jobs that are estimated to make room soon", p.Free)
		case p.TeamUsed+need <= p.TeamNominal:
			fmt.Fprintf(&b, ", so this job's %d are within its quota, but only %d are free and no borrowed or preemptible work can be stopped for it", need, p.Free)
		default:
			fmt.Fprintf(&b, " and no idle GPUs can be borrowed (%d free, this job needs %d)", p.Free, need)
		}
	default:
		return "waiting: " + string(p.Reason)
	}
	if fit := min(p.LargestFree, p.Borrowable); fit > 0 && fit < p.PerReplica {
		fmt.Fprintf(&b, "; a job of %d GPUs would start now", fit)
	}
	if !p.FitsAt.IsZero() {
		fmt.Fprintf(&b, "; a job of this size would fit when running jobs end as estimated, %s", when(p.FitsAt, p.Now))
	}
	if p.Reserving {
		b.WriteString("; the nodes that free up first are held for it, so later jobs cannot overtake it")
	}
	return b.String()
}

// when formats a time for people: "at 14:20 UTC (in 2h10m)".
func when(at, now time.Time) string {
	d := at.Sub(now).Round(time.Minute)
	if d <= 0 {
		return "now"
	}
	day := ""
	if at.UTC().YearDay() != now.UTC().YearDay() || at.Sub(now) > 24*time.Hour {
		day = at.UTC().Format("Jan 2 ")
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return fmt.Sprintf("at %s%s UTC (in %s)", day, at.UTC().Format("15:04"), s)
}
