package scheduler_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/scheduler"
)

const (
	od   = scheduler.PoolOnDemand
	spot = scheduler.PoolSpot
	unl  = scheduler.Unlimited
)

// policyCase is one row of a policy table: a snapshot, a policy and what
// the decision must contain.
type policyCase struct {
	name string
	snap scheduler.Snapshot
	pol  func(*scheduler.Policy) // changes to DefaultPolicy
	// admit lists the admitted jobs in decision order.
	admit []string
	// nodes: where some admitted jobs must be placed.
	nodes map[string][]string
	// preempt maps each victim to the job it makes room for.
	preempt map[string]string
	// reasons of some pending jobs.
	reasons map[string]scheduler.Reason
	// explain: substrings of some pending jobs' explanations.
	explain map[string][]string
	// gpus: GPUs admitted per team, when the order of admit does not matter
	// (admit is then not checked).
	gpus  map[string]int
	check func(t *testing.T, d scheduler.Decision)
}

func runPolicyTable(t *testing.T, cases []policyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := scheduler.DefaultPolicy()
			if c.pol != nil {
				c.pol(&pol)
			}
			if c.snap.Now.IsZero() {
				c.snap.Now = t0
			}
			d := scheduler.Schedule(c.snap, pol)
			size := map[string]int{}
			for _, j := range c.snap.Pending {
				size[j.ID] = j.GPUs
			}
			var got []string
			gpus := map[string]int{}
			for _, a := range d.Admit {
				got = append(got, a.JobID)
				gpus[a.Team] += size[a.JobID] * len(a.Nodes)
			}
			if c.gpus != nil {
				if diff := cmp.Diff(c.gpus, gpus); diff != "" {
					t.Errorf("GPUs admitted per team (-want +got):\n%s\npending: %v", diff, explainAll(d))
				}
			} else if diff := cmp.Diff(c.admit, got); diff != "" {
				t.Errorf("admitted (-want +got):\n%s\npending: %v", diff, explainAll(d))
			}
			ad := admitted(d)
			for id, want := range c.nodes {
				if diff := cmp.Diff(want, ad[id]); diff != "" {
					t.Errorf("nodes of %s (-want +got):\n%s", id, diff)
				}
			}
			gotPre := map[string]string{}
			for _, p := range d.Preempt {
				gotPre[p.JobID] = p.For
				if p.Reason == "" || p.Kind == "" {
					t.Errorf("preemption of %s has no reason or kind: %+v", p.JobID, p)
				}
			}
			if c.preempt == nil {
				c.preempt = map[string]string{}
			}
			if diff := cmp.Diff(c.preempt, gotPre); diff != "" {
				t.Errorf("preemptions victim→for (-want +got):\n%s", diff)
			}
			for id, want := range c.reasons {
				p, ok := pendingOf(d, id)
				if !ok || p.Reason != want {
					t.Errorf("%s: reason %q, want %q (%s)", id, p.Reason, want, p.Explain())
				}
			}
			for id, subs := range c.explain {
				p, _ := pendingOf(d, id)
				msg := p.Explain()
				for _, sub := range subs {
					if !strings.Contains(msg, sub) {
						t.Errorf("%s: explanation %q lacks %q", id, msg, sub)
					}
				}
			}
			if c.check != nil {
				c.check(t, d)
			}
		})
	}
}

func explainAll(d scheduler.Decision) []string {
	var out []string
	for _, p := range d.Pending {
		out = append(out, p.JobID+": "+p.Explain())
	}
	return out
}

func TestFairness(t *testing.T) {
	cluster := nodes("n", 2, 8, "a100", od)
	teams := []scheduler.Team{team("a", 4, unl), team("b", 4, unl), team("c", 8, unl)}
	running := []scheduler.Allocation{
		job("a-run1", "a").gpus(4).on(-time.Hour, "n-0"),
		job("a-run2", "a").gpus(4).on(-time.Hour, "n-0"),
		job("b-run1", "b").gpus(4).on(-time.Hour, "n-1"),
	}
	borrowers := []scheduler.Job{job("a-next", "a").gpus(4).at(time.Minute).obj(), job("b-next", "b").gpus(4).at(2 * time.Minute).obj()}
	weighted := slices.Clone(teams)
	weighted[1].Weight = 0.25
	// Two teams without nominal quota borrow the idle GPUs of a third; each
	// wants all 16, in one-GPU jobs.
	lender := func(wa, wb float64) []scheduler.Team {
		ts := []scheduler.Team{team("a", 0, unl), team("b", 0, unl), team("c", 16, unl)}
		ts[0].Weight, ts[1].Weight = wa, wb
		return ts
	}
	var contending []scheduler.Job
	for i := range 16 {
		for _, tn := range []string{"a", "b"} {
			contending = append(contending, job(fmt.Sprintf("%s-%02d", tn, i), tn).at(time.Duration(i)*time.Minute).obj())
		}
	}
	runPolicyTable(t, []policyCase{
		{name: "borrower with the lower dominant share first",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: teams, Running: running, Pending: borrowers},
			admit:   []string{"b-next"},
			reasons: map[string]scheduler.Reason{"a-next": scheduler.ReasonNoCapacity}},
		{name: "without fair sharing the earlier borrower",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: teams, Running: running, Pending: borrowers},
			pol:   func(p *scheduler.Policy) { p.FairSharing = false },
			admit: []string{"a-next"}},
		{name: "weights scale shares",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: weighted, Running: running, Pending: borrowers},
			admit: []string{"a-next"}},
		{name: "equal weights split borrowed GPUs evenly",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: lender(1, 1), Pending: contending},
			gpus: map[string]int{"a": 8, "b": 8}},
		{name: "weights 3:1 split borrowed GPUs 3:1",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: lender(3, 1), Pending: contending},
			gpus: map[string]int{"a": 12, "b": 4}},
		{name: "weights 1:3 split borrowed GPUs 1:3",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: lender(0.5, 1.5), Pending: contending},
			gpus: map[string]int{"a": 4, "b": 12}},
		{name: "within nominal quota before any borrower",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: teams, Running: running,
				Pending: append(slices.Clone(borrowers), job("c-job", "c").gpus(4).at(3*time.Minute).obj())},
			admit: []string{"c-job"}},
		{name: "a higher class does not buy borrowing order across teams",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: teams, Running: running,
				Pending: []scheduler.Job{job("a-next", "a").gpus(4).prio(scheduler.PriorityInteractive).obj(), job("b-next", "b").gpus(4).at(time.Minute).obj()}},
			admit: []string{"b-next"}},
		{name: "inside a team the higher class first",
			snap: scheduler.Snapshot{Nodes: nodes("n", 1, 4, "a100", od), Teams: teams,
				Pending: []scheduler.Job{job("batch", "a").gpus(4).obj(), job("inter", "a").gpus(4).prio(scheduler.PriorityInteractive).at(5 * time.Minute).obj()}},
			admit: []string{"inter"}},
		{name: "inside a team and class the shorter job first (ShortestFirst)",
			snap: scheduler.Snapshot{Nodes: nodes("n", 1, 4, "a100", od), Teams: teams,
				Pending: []scheduler.Job{job("long", "a").gpus(4).est(10 * time.Hour).obj(), job("short", "a").gpus(4).est(time.Hour).at(time.Minute).obj()}},
			admit: []string{"short"}},
		{name: "a job waiting past AgeAfter keeps its place",
			snap: scheduler.Snapshot{Nodes: nodes("n", 1, 4, "a100", od), Teams: teams, Now: t0.Add(7 * time.Hour),
				Pending: []scheduler.Job{job("long", "a").gpus(4).est(10 * time.Hour).obj(), job("short", "a").gpus(4).est(time.Hour).at(390 * time.Minute).obj()}},
			admit: []string{"long"}},
	})
}

func TestBorrowAndReclaim(t *testing.T) {
	cluster := nodes("n", 2, 8, "a100", od)
	ab := func(limit int) []scheduler.Team { return []scheduler.Team{team("a", 8, limit), team("b", 8, limit)} }
	three := []scheduler.Job{job("a1", "a").gpus(4).obj(), job("a2", "a").gpus(4).at(time.Minute).obj(), job("a3", "a").gpus(4).at(2 * time.Minute).obj()}
	full := []scheduler.Allocation{
		job("a1", "a").gpus(4).est(10*time.Hour).on(-4*time.Hour, "n-0"), job("a2", "a").gpus(4).est(10*time.Hour).on(-3*time.Hour, "n-0"),
		job("a3", "a").gpus(4).est(10*time.Hour).on(-2*time.Hour, "n-1"), job("a4", "a").gpus(4).est(10*time.Hour).on(-time.Hour, "n-1"),
	}
	endingSoon := slices.Clone(full)
	endingSoon[0].Job.EstimatedDuration = 4*time.Hour + 10*time.Minute
	stopping := slices.Clone(full)
	stopping[3].Terminating, stopping[3].PreemptedFor = true, "b1"
	runPolicyTable(t, []policyCase{
		{name: "borrow idle GPUs of another team",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Pending: three},
			admit: []string{"a1", "a2", "a3"},
			check: func(t *testing.T, d scheduler.Decision) {
				if d.Admit[2].Borrowed != 4 || d.Admit[0].Borrowed != 0 {
					t.Errorf("borrowed: %+v", d.Admit)
				}
				u := d.Teams[0]
				if u.Team != "a" || u.Used != 12 || u.Borrowed != 4 || u.Nominal != 8 {
					t.Errorf("usage: %+v", u)
				}
			}},
		{name: "borrowing limit",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(2), Pending: three},
			admit:   []string{"a1", "a2"},
			reasons: map[string]scheduler.Reason{"a3": scheduler.ReasonQuotaLimit},
			explain: map[string][]string{"a3": {"uses 8/8 nominal a100 GPUs", "borrowing limit of 2"}}},
		{name: "borrowing off",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Pending: three},
			pol:     func(p *scheduler.Policy) { p.Borrowing = false },
			admit:   []string{"a1", "a2"},
			reasons: map[string]scheduler.Reason{"a3": scheduler.ReasonQuotaLimit}},
		{name: "reclaim stops the borrowed job with the least progress",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Running: full, Pending: []scheduler.Job{job("b1", "b").gpus(4).obj()}},
			preempt: map[string]string{"a4": "b1"},
			reasons: map[string]scheduler.Reason{"b1": scheduler.ReasonPreempting},
			check: func(t *testing.T, d scheduler.Decision) {
				p := d.Preempt[0]
				if p.Kind != scheduler.Reclaim || p.GPUs != 4 || p.LostWork != time.Hour || p.GracePeriod != 30*time.Second ||
					!strings.Contains(p.Reason, "team b takes back a100 GPUs lent to team a") {
					t.Errorf("preemption: %+v", p)
				}
			}},
		{name: "no preemption when room frees within PreemptWait",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Running: endingSoon, Pending: []scheduler.Job{job("b1", "b").gpus(4).obj()}},
			reasons: map[string]scheduler.Reason{"b1": scheduler.ReasonNoCapacity},
			explain: map[string][]string{"b1": {"rather than stop other work it waits", "in 10m"}}},
		{name: "interactive jobs preempt anyway",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Running: endingSoon, Pending: []scheduler.Job{job("b1", "b").gpus(4).prio(scheduler.PriorityInteractive).obj()}},
			preempt: map[string]string{"a4": "b1"}},
		{name: "reclaim a whole node from the cheapest borrowed pair",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Running: full, Pending: []scheduler.Job{job("b1", "b").gpus(8).obj()}},
			preempt: map[string]string{"a3": "b1", "a4": "b1"}},
		{name: "a borrower cannot reclaim",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Running: full, Pending: []scheduler.Job{job("b1", "b").gpus(4).replicas(3).obj()}},
			reasons: map[string]scheduler.Reason{"b1": scheduler.ReasonNoCapacity}},
		{name: "work within its team's nominal quota is never reclaimed",
			snap: scheduler.Snapshot{Nodes: nodes("n", 1, 8, "a100", od), Teams: ab(unl),
				Running: []scheduler.Allocation{job("a1", "a").gpus(8).on(-time.Hour, "n-0")}, Pending: []scheduler.Job{job("b1", "b").gpus(4).obj()}},
			reasons: map[string]scheduler.Reason{"b1": scheduler.ReasonNoCapacity},
			explain: map[string][]string{"b1": {"within its quota", "no borrowed or preemptible work can be stopped"}}},
		{name: "preemption off",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Running: full, Pending: []scheduler.Job{job("b1", "b").gpus(4).obj()}},
			pol:     func(p *scheduler.Policy) { p.Preemption = false },
			reasons: map[string]scheduler.Reason{"b1": scheduler.ReasonNoCapacity}},
		{name: "victims already stopping are not chosen again",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: ab(unl), Running: stopping, Pending: []scheduler.Job{job("b1", "b").gpus(4).obj()}},
			reasons: map[string]scheduler.Reason{"b1": scheduler.ReasonPreempting},
			explain: map[string][]string{"b1": {"stopping a4"}}},
	})
}

func TestPreemptionChoice(t *testing.T) {
	one := nodes("n", 1, 8, "a100", od)
	two := nodes("n", 2, 8, "a100", od)
	teams := []scheduler.Team{team("a", 64, 0)}
	inter := []scheduler.Job{job("i1", "a").gpus(4).prio(scheduler.PriorityInteractive).obj()}
	ckpt := job("p1", "a").gpus(4).preemptible().checkpointable().on(-3*time.Hour, "n-0")
	ckpt.LastCheckpointAt = t0.Add(-5 * time.Minute)
	runPolicyTable(t, []policyCase{
		{name: "lowest class first",
			snap: scheduler.Snapshot{Nodes: one, Teams: teams, Pending: inter, Running: []scheduler.Allocation{
				job("p1", "a").gpus(4).prio(scheduler.PriorityPreemptible).on(-time.Hour, "n-0"),
				job("p2", "a").gpus(4).preemptible().on(-30*time.Minute, "n-0")}},
			preempt: map[string]string{"p1": "i1"},
			check: func(t *testing.T, d scheduler.Decision) {
				if d.Preempt[0].Kind != scheduler.Priority {
					t.Errorf("kind %s", d.Preempt[0].Kind)
				}
			}},
		{name: "least progress first",
			snap: scheduler.Snapshot{Nodes: one, Teams: teams, Pending: inter, Running: []scheduler.Allocation{
				job("p1", "a").gpus(4).preemptible().on(-3*time.Hour, "n-0"),
				job("p2", "a").gpus(4).preemptible().on(-time.Hour, "n-0")}},
			preempt: map[string]string{"p2": "i1"}},
		{name: "most recent checkpoint first",
			snap: scheduler.Snapshot{Nodes: one, Teams: teams, Pending: inter, Running: []scheduler.Allocation{
				ckpt, job("p2", "a").gpus(4).preemptible().on(-time.Hour, "n-0")}},
			preempt: map[string]string{"p1": "i1"}},
		{name: "fewest GPUs for the same lost work",
			snap: scheduler.Snapshot{Nodes: two, Teams: teams, Pending: []scheduler.Job{job("i1", "a").gpus(2).prio(scheduler.PriorityInteractive).obj()},
				Running: []scheduler.Allocation{
					job("v1", "a").gpus(4).preemptible().on(-time.Hour, "n-0"), job("x1", "a").gpus(4).on(-time.Hour, "n-0"),
					job("v2", "a").gpus(2).preemptible().on(-2*time.Hour, "n-1"), job("x2", "a").gpus(6).on(-time.Hour, "n-1")}},
			preempt: map[string]string{"v2": "i1"}},
		{name: "no more victims than needed",
			snap: scheduler.Snapshot{Nodes: one, Teams: teams, Pending: inter, Running: []scheduler.Allocation{
				job("w1", "a").gpus(1).preemptible().on(-10*time.Minute, "n-0"), job("w2", "a").gpus(1).preemptible().on(-20*time.Minute, "n-0"),
				job("w3", "a").gpus(4).preemptible().on(-5*time.Minute, "n-0"), job("x", "a").gpus(2).on(-time.Hour, "n-0")}},
			preempt: map[string]string{"w3": "i1"}},
		{name: "work that is neither borrowed nor preemptible stays",
			snap: scheduler.Snapshot{Nodes: one, Teams: teams, Pending: inter, Running: []scheduler.Allocation{
				job("x1", "a").gpus(4).on(-time.Hour, "n-0"), job("x2", "a").gpus(4).on(-time.Hour, "n-0")}},
			reasons: map[string]scheduler.Reason{"i1": scheduler.ReasonNoCapacity}},
		{name: "preemptible work of the same class stays",
			snap: scheduler.Snapshot{Nodes: one, Teams: teams, Pending: []scheduler.Job{job("b1", "a").gpus(4).obj()}, Running: []scheduler.Allocation{
				job("p1", "a").gpus(8).preemptible().on(-time.Hour, "n-0")}},
			reasons: map[string]scheduler.Reason{"b1": scheduler.ReasonNoCapacity}},
		{name: "a gang victim frees all its nodes",
			snap: scheduler.Snapshot{Nodes: two, Teams: teams, Pending: []scheduler.Job{job("i1", "a").gpus(8).replicas(2).prio(scheduler.PriorityInteractive).obj()},
				Running: []scheduler.Allocation{job("g", "a").gpus(8).replicas(2).preemptible().on(-time.Hour, "n-0", "n-1")}},
			preempt: map[string]string{"g": "i1"}},
	})
}

func TestGang(t *testing.T) {
	two := nodes("n", 2, 8, "a100", od)
	teams := []scheduler.Team{team("a", 64, 0)}
	runPolicyTable(t, []policyCase{
		{name: "all replicas or none",
			snap:    scheduler.Snapshot{Nodes: two, Teams: teams, Pending: []scheduler.Job{job("g", "a").gpus(8).replicas(3).obj(), job("s", "a").gpus(8).at(time.Minute).obj()}},
			admit:   []string{"s"},
			reasons: map[string]scheduler.Reason{"g": scheduler.ReasonNoCapacity}},
		{name: "one replica per node",
			snap:  scheduler.Snapshot{Nodes: two, Teams: teams, Pending: []scheduler.Job{job("g", "a").gpus(8).replicas(2).obj()}},
			admit: []string{"g"}, nodes: map[string][]string{"g": {"n-0", "n-1"}}},
		{name: "small replicas share a node",
			snap:  scheduler.Snapshot{Nodes: two, Teams: teams, Pending: []scheduler.Job{job("g", "a").gpus(2).replicas(4).obj()}},
			admit: []string{"g"}, nodes: map[string][]string{"g": {"n-0", "n-0", "n-0", "n-0"}}},
		{name: "a gang that does not fit holds nothing",
			snap: scheduler.Snapshot{Nodes: two, Teams: teams,
				Running: []scheduler.Allocation{job("r", "a").gpus(4).on(-time.Hour, "n-1")},
				Pending: []scheduler.Job{job("g", "a").gpus(8).replicas(2).obj(), job("s", "a").gpus(4).at(time.Minute).obj()}},
			admit: []string{"s"}, nodes: map[string][]string{"s": {"n-1"}},
			reasons: map[string]scheduler.Reason{"g": scheduler.ReasonNoCapacity}},
	})
}

func TestPacking(t *testing.T) {
	three := nodes("n", 3, 8, "a100", od)
	teams := []scheduler.Team{team("a", 64, 0), {Name: "h", Quota: []scheduler.GPUQuota{{GPUType: "h100", Nominal: 8}}}}
	mixed := concat(nodes("a", 1, 8, "a100", od), nodes("h", 1, 8, "h100", od))
	mem := concat(nodes("small", 1, 8, "a100", od), nodes("big", 1, 8, "a100", od))
	mem[0].GPUMemoryBytes = 40 * gi
	runPolicyTable(t, []policyCase{
		{name: "best fit by free GPUs",
			snap: scheduler.Snapshot{Nodes: three, Teams: teams,
				Running: []scheduler.Allocation{job("r0", "a").gpus(2).on(-time.Hour, "n-0"), job("r2", "a").gpus(6).on(-time.Hour, "n-2")},
				Pending: []scheduler.Job{job("j2", "a").gpus(2).obj(), job("j4", "a").gpus(4).at(time.Minute).obj(), job("j8", "a").gpus(8).at(2 * time.Minute).obj()}},
			admit: []string{"j2", "j4", "j8"},
			nodes: map[string][]string{"j2": {"n-2"}, "j4": {"n-0"}, "j8": {"n-1"}}},
		{name: "small jobs keep whole nodes free",
			snap: scheduler.Snapshot{Nodes: nodes("n", 2, 8, "a100", od), Teams: teams,
				Running: []scheduler.Allocation{job("r", "a").on(-time.Hour, "n-1")},
				Pending: []scheduler.Job{job("s1", "a").obj(), job("s2", "a").obj(), job("s3", "a").obj(), job("s4", "a").obj(),
					job("s5", "a").obj(), job("s6", "a").obj(), job("s7", "a").obj()}},
			admit: []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"},
			check: func(t *testing.T, d scheduler.Decision) {
				for _, a := range d.Admit {
					if a.Nodes[0] != "n-1" {
						t.Errorf("%s on %v, want n-1", a.JobID, a.Nodes)
					}
				}
			}},
		{name: "long job where running jobs end late",
			snap: scheduler.Snapshot{Nodes: nodes("n", 2, 8, "a100", od), Teams: teams,
				Running: []scheduler.Allocation{job("r0", "a").gpus(4).est(time.Hour).on(0, "n-0"), job("r1", "a").gpus(4).est(10*time.Hour).on(0, "n-1")},
				Pending: []scheduler.Job{job("long", "a").gpus(4).est(9 * time.Hour).obj()}},
			admit: []string{"long"}, nodes: map[string][]string{"long": {"n-1"}}},
		{name: "short job where running jobs end soon",
			snap: scheduler.Snapshot{Nodes: nodes("n", 2, 8, "a100", od), Teams: teams,
				Running: []scheduler.Allocation{job("r0", "a").gpus(4).est(time.Hour).on(0, "n-0"), job("r1", "a").gpus(4).est(10*time.Hour).on(0, "n-1")},
				Pending: []scheduler.Job{job("short", "a").gpus(4).est(30 * time.Minute).obj()}},
			admit: []string{"short"}, nodes: map[string][]string{"short": {"n-0"}}},
		{name: "GPU type",
			snap:  scheduler.Snapshot{Nodes: mixed, Teams: teams, Pending: []scheduler.Job{job("hj", "h").typ("h100").obj()}},
			admit: []string{"hj"}, nodes: map[string][]string{"hj": {"h-0"}}},
		{name: "GPU memory",
			snap:  scheduler.Snapshot{Nodes: mem, Teams: teams, Pending: []scheduler.Job{job("m", "a").gpuMem(60 * gi).obj()}},
			admit: []string{"m"}, nodes: map[string][]string{"m": {"big-0"}}},
		{name: "CPU and memory per replica",
			snap: scheduler.Snapshot{Nodes: nodes("n", 2, 8, "a100", od), Teams: teams,
				Running: []scheduler.Allocation{job("r", "a").cpu(90000).on(-time.Hour, "n-0")},
				Pending: []scheduler.Job{job("c", "a").cpu(8000).obj()}},
			admit: []string{"c"}, nodes: map[string][]string{"c": {"n-1"}}},
	})
}

func TestSpotPreference(t *testing.T) {
	cluster := concat(nodes("od", 1, 8, "a100", od), nodes("spot", 1, 8, "a100", spot))
	teams := []scheduler.Team{team("a", 16, 0)}
	runPolicyTable(t, []policyCase{
		{name: "preemptible jobs go to spot, others to on-demand",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: teams, Pending: []scheduler.Job{job("p", "a").preemptible().obj(), job("n", "a").at(time.Minute).obj()}},
			admit: []string{"p", "n"}, nodes: map[string][]string{"p": {"spot-0"}, "n": {"od-0"}}},
		{name: "preemptible class counts as preemptible",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: teams, Pending: []scheduler.Job{job("p", "a").prio(scheduler.PriorityPreemptible).obj()}},
			admit: []string{"p"}, nodes: map[string][]string{"p": {"spot-0"}}},
		{name: "preemptible jobs fall back to on-demand",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: teams,
				Running: []scheduler.Allocation{job("r", "a").gpus(8).preemptible().on(-time.Hour, "spot-0")},
				Pending: []scheduler.Job{job("p", "a").preemptible().obj()}},
			admit: []string{"p"}, nodes: map[string][]string{"p": {"od-0"}}},
		{name: "other jobs never go to spot",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: teams,
				Running: []scheduler.Allocation{job("r", "a").gpus(8).on(-time.Hour, "od-0")},
				Pending: []scheduler.Job{job("n", "a").obj()}},
			reasons: map[string]scheduler.Reason{"n": scheduler.ReasonNoCapacity}},
		{name: "unless the policy allows it",
			snap: scheduler.Snapshot{Nodes: cluster, Teams: teams,
				Running: []scheduler.Allocation{job("r", "a").gpus(8).on(-time.Hour, "od-0")},
				Pending: []scheduler.Job{job("n", "a").obj()}},
			pol:   func(p *scheduler.Policy) { p.NonPreemptibleOnSpot = true },
			admit: []string{"n"}, nodes: map[string][]string{"n": {"spot-0"}}},
		{name: "a spot-only cluster cannot run other jobs",
			snap:    scheduler.Snapshot{Nodes: nodes("spot", 1, 8, "a100", spot), Teams: teams, Pending: []scheduler.Job{job("n", "a").obj()}},
			reasons: map[string]scheduler.Reason{"n": scheduler.ReasonUnplaceable},
			explain: map[string][]string{"n": {"spot capacity", "mark the job preemptible"}}},
	})
}

func TestReservation(t *testing.T) {
	cluster := nodes("n", 2, 8, "a100", od)
	teams := []scheduler.Team{team("a", 32, 0)}
	running := []scheduler.Allocation{job("r0", "a").gpus(4).est(time.Hour).on(0, "n-0"), job("r1", "a").gpus(8).est(3*time.Hour).on(0, "n-1")}
	big := job("big", "a").gpus(8).at(-7 * time.Hour).obj()
	long := job("long", "a").gpus(4).est(5 * time.Hour).at(-10 * time.Minute).obj()
	short := job("short", "a").gpus(4).est(30 * time.Minute).at(-5 * time.Minute).obj()
	runPolicyTable(t, []policyCase{
		{name: "a long job may not take the nodes held for a waiting large job",
			snap:    scheduler.Snapshot{Nodes: cluster, Teams: teams, Running: running, Pending: []scheduler.Job{big, long}},
			reasons: map[string]scheduler.Reason{"big": scheduler.ReasonNoCapacity, "long": scheduler.ReasonReserved},
			explain: map[string][]string{
				"long": {"held for job big"},
				"big":  {"a job of this size would fit when running jobs end as estimated, at 10:00 UTC (in 1h)", "held for it"}}},
		{name: "a short job backfills them",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: teams, Running: running, Pending: []scheduler.Job{big, long, short}},
			admit: []string{"short"}, nodes: map[string][]string{"short": {"n-0"}}},
		{name: "without reservations the long job takes them",
			snap:  scheduler.Snapshot{Nodes: cluster, Teams: teams, Running: running, Pending: []scheduler.Job{big, long}},
			pol:   func(p *scheduler.Policy) { p.ReserveAfter = 0 },
			admit: []string{"long"}},
	})
}
