package scheduler_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/scheduler"
)

func TestExplain(t *testing.T) {
	four := nodes("n", 4, 8, "a100", od)
	ab := []scheduler.Team{team("a", 16, unl), team("b", 16, unl)}
	fullAB := []scheduler.Allocation{
		job("a1", "a").gpus(8).est(time.Hour).on(0, "n-0"), job("a2", "a").gpus(8).est(2*time.Hour).on(0, "n-1"),
		job("b1", "b").gpus(8).est(3*time.Hour).on(0, "n-2"), job("b2", "b").gpus(8).est(4*time.Hour).on(0, "n-3"),
	}
	halves := []scheduler.Allocation{job("h0", "a").gpus(4).on(0, "n-0"), job("h1", "a").gpus(4).on(0, "n-1")}
	runPolicyTable(t, []policyCase{
		{name: "no quota for the GPU type",
			snap: scheduler.Snapshot{Nodes: concat(four, nodes("h", 1, 8, "h100", od)), Teams: ab,
				Pending: []scheduler.Job{job("x", "a").typ("h100").obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonNoQuota},
			explain: map[string][]string{"x": {"team a has no quota for h100 GPUs", "ask a platform admin"}}},
		{name: "a team nobody configured has no quota",
			snap:    scheduler.Snapshot{Nodes: four, Teams: ab, Pending: []scheduler.Job{job("x", "ghost").obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonNoQuota}},
		{name: "nominal quota used up and no borrowing",
			snap: scheduler.Snapshot{Nodes: four, Teams: []scheduler.Team{team("a", 16, 0), team("b", 16, 0)}, Running: fullAB[:2],
				Pending: []scheduler.Job{job("x", "a").gpus(4).obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonQuotaLimit},
			explain: map[string][]string{"x": {"team a uses 16/16 nominal a100 GPUs and may not borrow", "needs 4",
				"when enough of the team's a100 GPUs free up (estimated at 10:00 UTC (in 1h))", "larger quota"}}},
		{name: "nothing idle to borrow",
			snap:    scheduler.Snapshot{Nodes: four, Teams: ab, Running: fullAB, Pending: []scheduler.Job{job("x", "a").gpus(4).obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonNoCapacity},
			explain: map[string][]string{"x": {"team a uses 16/16 nominal a100 GPUs and no idle GPUs can be borrowed (0 free, this job needs 4)",
				"would fit when running jobs end as estimated, at 10:00 UTC (in 1h)"}}},
		{name: "free GPUs spread over nodes",
			snap: scheduler.Snapshot{Nodes: four[:2], Teams: ab, Running: halves,
				Pending: []scheduler.Job{job("x", "a").gpus(8).obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonFragmented},
			explain: map[string][]string{"x": {"8 a100 GPUs are free, but not 8 on one node (at most 4 on one node)", "a job of 4 GPUs would start now"}}},
		{name: "too big for any node",
			snap:    scheduler.Snapshot{Nodes: four, Teams: ab, Pending: []scheduler.Job{job("x", "a").gpus(16).obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonUnplaceable},
			explain: map[string][]string{"x": {"it asks for 16 GPUs per replica, but a100 nodes have at most 8", "split the job into replicas"}}},
		{name: "unknown GPU type",
			snap:    scheduler.Snapshot{Nodes: four, Teams: ab, Pending: []scheduler.Job{job("x", "a").typ("h200").obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonUnplaceable},
			explain: map[string][]string{"x": {"no node has h200 GPUs (the cluster has a100)"}}},
		{name: "too much GPU memory",
			snap:    scheduler.Snapshot{Nodes: four, Teams: ab, Pending: []scheduler.Job{job("x", "a").gpuMem(100 * gi).obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonUnplaceable},
			explain: map[string][]string{"x": {"GPUs with 100Gi of memory, but a100 GPUs have at most 80Gi"}}},
		{name: "a selector no node matches",
			snap:    scheduler.Snapshot{Nodes: four, Teams: ab, Pending: []scheduler.Job{job("x", "a").selector("zone", "mars").obj()}},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonUnplaceable},
			explain: map[string][]string{"x": {"node selector"}}},
		{name: "invalid jobs",
			snap: scheduler.Snapshot{Nodes: four, Teams: ab, Pending: []scheduler.Job{job("x", "").obj(), job("y", "a").gpus(-1).obj(),
				job("z", "a").typ("").obj(), job("a1", "a").obj()}, Running: fullAB[:1]},
			reasons: map[string]scheduler.Reason{"x": scheduler.ReasonInvalid, "y": scheduler.ReasonInvalid, "z": scheduler.ReasonInvalid, "a1": scheduler.ReasonInvalid},
			explain: map[string][]string{"x": {"names no team"}, "z": {"must name its GPU type"}, "a1": {"unique ID"}}},
	})
}

func TestTaintsAndSelectors(t *testing.T) {
	cluster := nodes("n", 2, 8, "a100", od)
	cluster[0].Taints = []scheduler.Taint{{Key: "dedicated", Value: "infer"}}
	cluster[1].Labels = map[string]string{"zone": "b"}
	teams := []scheduler.Team{team("a", 16, 0)}
	runPolicyTable(t, []policyCase{
		{name: "untolerated taint keeps a job off",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: teams, Pending: []scheduler.Job{job("x", "a").gpus(8).obj(), job("y", "a").gpus(8).at(time.Minute).obj()}},
			admit: []string{"x"}, nodes: map[string][]string{"x": {"n-1"}}},
		{name: "toleration lets it on",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: teams, Pending: []scheduler.Job{job("x", "a").gpus(8).tolerate("dedicated").selector("zone", "b").obj(), job("y", "a").gpus(8).tolerate("dedicated").at(time.Minute).obj()}},
			admit: []string{"x", "y"}, nodes: map[string][]string{"x": {"n-1"}, "y": {"n-0"}}},
	})
}

// randomSnapshot is a busy cluster with a queue; the same seed gives the
// same snapshot.
func randomSnapshot(seed uint64, nNodes, nTeams, nRunning, nPending int) scheduler.Snapshot {
	rng := rand.New(rand.NewPCG(seed, 7))
	snap := scheduler.Snapshot{Now: t0}
	types := []string{"a100", "h100"}
	for i := range nNodes {
		pool := od
		if i%4 == 3 {
			pool = spot
		}
		snap.Nodes = append(snap.Nodes, scheduler.Node{Name: fmt.Sprintf("node-%04d", i), Pool: pool, GPUType: types[i%2], GPUs: 8,
			GPUMemoryBytes: 80 * gi, CPUMillis: 96000, MemoryBytes: 1024 * gi})
	}
	perType := nNodes * 8 / 2
	for i := range nTeams {
		snap.Teams = append(snap.Teams, scheduler.Team{Name: fmt.Sprintf("team-%02d", i), Weight: float64(1 + i%3), Quota: []scheduler.GPUQuota{
			{GPUType: "a100", Nominal: perType / nTeams, BorrowingLimit: unl}, {GPUType: "h100", Nominal: perType / nTeams, BorrowingLimit: perType / 4}}})
	}
	sizes := []int{1, 1, 1, 1, 2, 2, 4, 8}
	mk := func(id string) scheduler.Job {
		g := sizes[rng.IntN(len(sizes))]
		j := scheduler.Job{ID: id, Team: fmt.Sprintf("team-%02d", rng.IntN(nTeams)), GPUType: types[rng.IntN(2)], GPUs: g, Replicas: 1,
			Priority: scheduler.PriorityClass(rng.IntN(4)), Preemptible: rng.IntN(4) == 0, Checkpointable: rng.IntN(2) == 0,
			CPUMillis: int64(g) * 8000, MemoryBytes: int64(g) * 64 * gi, EstimatedDuration: time.Duration(1+rng.IntN(600)) * time.Minute,
			SubmittedAt: t0.Add(-time.Duration(rng.IntN(3600*24)) * time.Second)}
		if g == 8 && rng.IntN(3) == 0 {
			j.Replicas = 2 + rng.IntN(3)
		}
		return j
	}
	// Running jobs fill nodes first-fit until they do not fit.
	free := make([]int, nNodes)
	for i := range free {
		free[i] = 8
	}
	for i := 0; i < nRunning; i++ {
		j := mk(fmt.Sprintf("run-%05d", i))
		var on []string
		for k := 0; k < nNodes && len(on) < j.ReplicaCount(); k++ {
			if snap.Nodes[k].GPUType == j.GPUType && free[k] >= j.GPUs {
				free[k] -= j.GPUs
				on = append(on, snap.Nodes[k].Name)
			}
		}
		if len(on) < j.ReplicaCount() {
			break
		}
		a := scheduler.Allocation{Job: j, Nodes: on, StartedAt: t0.Add(-time.Duration(rng.IntN(3600*10)) * time.Second)}
		if j.Checkpointable {
			a.LastCheckpointAt = a.StartedAt.Add(time.Duration(rng.IntN(3600)) * time.Second)
		}
		snap.Running = append(snap.Running, a)
	}
	for i := range nPending {
		snap.Pending = append(snap.Pending, mk(fmt.Sprintf("job-%05d", i)))
	}
	return snap
}

func deepCopy(s scheduler.Snapshot) scheduler.Snapshot {
	c := s
	c.Nodes = slices.Clone(s.Nodes)
	c.Teams = slices.Clone(s.Teams)
	for i := range c.Teams {
		c.Teams[i].Quota = slices.Clone(c.Teams[i].Quota)
	}
	c.Running = slices.Clone(s.Running)
	for i := range c.Running {
		c.Running[i].Nodes = slices.Clone(c.Running[i].Nodes)
	}
	c.Pending = slices.Clone(s.Pending)
	return c
}

// TestDeterministic: the same snapshot gives the same decision, whatever
// the order of its slices, and Schedule leaves the snapshot as it was.
func TestDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		snap := randomSnapshot(seed, 40, 5, 120, 300)
		orig := deepCopy(snap)
		pol := scheduler.DefaultPolicy()
		d1 := scheduler.Schedule(snap, pol)
		if !reflect.DeepEqual(orig, snap) {
			t.Fatalf("seed %d: Schedule modified its snapshot", seed)
		}
		d2 := scheduler.Schedule(snap, pol)
		if diff := cmp.Diff(d1, d2); diff != "" {
			t.Fatalf("seed %d: two calls differ:\n%s", seed, diff)
		}
		if len(d1.Admit) == 0 || len(d1.Pending) == 0 {
			t.Fatalf("seed %d: a busy cluster should admit some and keep some pending: %d admitted, %d pending", seed, len(d1.Admit), len(d1.Pending))
		}
		shuffled := deepCopy(snap)
		rng := rand.New(rand.NewPCG(seed, 99))
		rng.Shuffle(len(shuffled.Nodes), func(i, j int) { shuffled.Nodes[i], shuffled.Nodes[j] = shuffled.Nodes[j], shuffled.Nodes[i] })
		rng.Shuffle(len(shuffled.Teams), func(i, j int) { shuffled.Teams[i], shuffled.Teams[j] = shuffled.Teams[j], shuffled.Teams[i] })
		rng.Shuffle(len(shuffled.Running), func(i, j int) { shuffled.Running[i], shuffled.Running[j] = shuffled.Running[j], shuffled.Running[i] })
		rng.Shuffle(len(shuffled.Pending), func(i, j int) { shuffled.Pending[i], shuffled.Pending[j] = shuffled.Pending[j], shuffled.Pending[i] })
		d3 := scheduler.Schedule(shuffled, pol)
		byID := func(a, b scheduler.Pending) int { return strings.Compare(a.JobID, b.JobID) }
		slices.SortFunc(d1.Pending, byID)
		slices.SortFunc(d3.Pending, byID)
		if diff := cmp.Diff(d1, d3); diff != "" {
			t.Fatalf("seed %d: shuffled snapshot decides differently:\n%s", seed, diff)
		}
	}
}

// TestDecisionInvariants checks, over random snapshots, what must hold for
// any decision: no node over capacity, quotas and borrowing limits kept,
// only borrowed or preemptible work preempted, every pending job explained.
func TestDecisionInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		snap := randomSnapshot(seed, 30, 4, 100, 200)
		d := scheduler.Schedule(snap, scheduler.DefaultPolicy())
		jobs := map[string]scheduler.Job{}
		for _, j := range snap.Pending {
			jobs[j.ID] = j
		}
		used := map[string]int{}
		teamUse := map[[2]string]int{}
		preempted := map[string]bool{}
		for _, p := range d.Preempt {
			preempted[p.JobID] = true
		}
		for _, a := range snap.Running {
			if preempted[a.Job.ID] {
				continue
			}
			for _, n := range a.Nodes {
				used[n] += a.Job.GPUs
			}
			teamUse[[2]string{a.Job.Team, a.Job.GPUType}] += a.Job.TotalGPUs()
		}
		for _, a := range d.Admit {
			j := jobs[a.JobID]
			if len(a.Nodes) != j.ReplicaCount() {
				t.Fatalf("seed %d: %s admitted on %d nodes for %d replicas", seed, a.JobID, len(a.Nodes), j.ReplicaCount())
			}
			for _, n := range a.Nodes {
				used[n] += j.GPUs
			}
			teamUse[[2]string{j.Team, j.GPUType}] += j.TotalGPUs()
		}
		for _, n := range snap.Nodes {
			if used[n.Name] > n.GPUs {
				t.Fatalf("seed %d: node %s holds %d of %d GPUs", seed, n.Name, used[n.Name], n.GPUs)
			}
		}
		for _, tm := range snap.Teams {
			for _, q := range tm.Quota {
				if q.BorrowingLimit >= 0 && teamUse[[2]string{tm.Name, q.GPUType}] > q.Nominal+q.BorrowingLimit {
					// Only jobs admitted now must respect the limit; running ones may predate it.
					for _, a := range d.Admit {
						if a.Team == tm.Name && jobs[a.JobID].GPUType == q.GPUType {
							t.Fatalf("seed %d: team %s over its %s limit after admitting %s", seed, tm.Name, q.GPUType, a.JobID)
						}
					}
				}
			}
		}
		for _, p := range d.Preempt {
			if p.Kind == scheduler.Priority {
				for _, a := range snap.Running {
					if a.Job.ID == p.JobID && !a.Job.IsPreemptible() {
						t.Fatalf("seed %d: %s preempted by priority but not preemptible", seed, p.JobID)
					}
				}
			}
		}
		for _, p := range d.Pending {
			if p.Reason == "" || p.Explain() == "" || strings.HasPrefix(p.Explain(), "waiting:") {
				t.Fatalf("seed %d: %s pending without an explanation: %+v", seed, p.JobID, p)
			}
		}
	}
}

func TestParsePriorityClass(t *testing.T) {
	for _, p := range []scheduler.PriorityClass{scheduler.PriorityPreemptible, scheduler.PriorityBatch, scheduler.PriorityProduction, scheduler.PriorityInteractive} {
		b, _ := p.MarshalText()
		var q scheduler.PriorityClass
		if err := q.UnmarshalText(b); err != nil || q != p {
			t.Fatalf("%s: %v %v", b, q, err)
		}
	}
	if _, err := scheduler.ParsePriorityClass("urgent"); err == nil || !strings.Contains(err.Error(), "interactive, production, batch, preemptible") {
		t.Fatalf("error: %v", err)
	}
}
