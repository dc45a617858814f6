package sim_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/scheduler/sim"
	"github.com/mlportal/mlportal/internal/scheduler/trace"
)

func node(name string, pool scheduler.Pool) scheduler.Node {
	return scheduler.Node{Name: name, Pool: pool, GPUType: "a100", GPUs: 8, GPUMemoryBytes: 80 << 30, CPUMillis: 96000, MemoryBytes: 1 << 40}
}

func team(name string, nominal int) scheduler.Team {
	return scheduler.Team{Name: name, Quota: []scheduler.GPUQuota{{GPUType: "a100", Nominal: nominal, BorrowingLimit: scheduler.Unlimited}}}
}

func tj(id, team string, submitH float64, gpus, replicas int, hours float64) trace.Job {
	return trace.Job{ID: id, Team: team, Submit: submitH * 3600, GPUType: "a100", GPUs: gpus, Replicas: replicas, Priority: scheduler.PriorityBatch,
		Duration: hours * 3600, Estimate: hours * 3600, CPUMillis: 8000, MemoryMiB: 64 << 10}
}

func run(t *testing.T, jobs []trace.Job, c sim.Cluster, kind sim.PolicyKind) sim.Result {
	t.Helper()
	r, err := sim.Run(context.Background(), jobs, c, sim.Options{}, kind)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestHardQuotaIdlesGPUs: the baseline keeps a team at its quota while the
// other team's GPUs sit idle; mlportal lends them.
func TestHardQuotaIdlesGPUs(t *testing.T) {
	c := sim.Cluster{Nodes: []scheduler.Node{node("n-0", scheduler.PoolOnDemand), node("n-1", scheduler.PoolOnDemand)},
		Teams: []scheduler.Team{team("a", 8), team("b", 8)}}
	jobs := []trace.Job{tj("a1", "a", 0, 8, 1, 1), tj("a2", "a", 0, 8, 1, 1)}
	b := run(t, jobs, c, sim.Baseline)
	if b.Completed != 2 || !near(b.MeanJCTHours, 1.5) || !near(b.IdleGPUHours, 8) || !near(b.IdleCost, 8*2.5) {
		t.Errorf("baseline: %+v", b)
	}
	m := run(t, jobs, c, sim.MLPortal)
	if m.Completed != 2 || !near(m.MeanJCTHours, 1) || m.IdleGPUHours != 0 || m.Preemptions != 0 {
		t.Errorf("mlportal: %+v", m)
	}
}

// TestStrandedGang: the baseline binds a gang's pods one by one, so one
// holds a node idle while the other waits; mlportal admits all or none.
func TestStrandedGang(t *testing.T) {
	c := sim.Cluster{Nodes: []scheduler.Node{node("n-0", scheduler.PoolOnDemand), node("n-1", scheduler.PoolOnDemand)},
		Teams: []scheduler.Team{team("a", 16)}}
	jobs := []trace.Job{tj("small", "a", 0, 4, 1, 2), tj("gang", "a", 0.001, 8, 2, 1)}
	b := run(t, jobs, c, sim.Baseline)
	if !near(b.StrandedGPUHours, 8*(2-0.001)) || b.Completed != 2 {
		t.Errorf("baseline stranded %g GPU-hours: %+v", b.StrandedGPUHours, b)
	}
	m := run(t, jobs, c, sim.MLPortal)
	if m.StrandedGPUHours != 0 || m.Completed != 2 {
		t.Errorf("mlportal: %+v", m)
	}
}

// TestReclaimLosesWorkSinceCheckpoint: a borrower is preempted when the
// lender needs its quota, loses the work since its last checkpoint and
// resumes from it.
func TestReclaimLosesWorkSinceCheckpoint(t *testing.T) {
	c := sim.Cluster{Nodes: []scheduler.Node{node("n-0", scheduler.PoolOnDemand)}, Teams: []scheduler.Team{team("a", 8), team("b", 0)}}
	borrower := tj("b1", "b", 0, 8, 1, 10)
	borrower.Checkpointable = true
	jobs := []trace.Job{borrower, tj("a1", "a", 2.25, 8, 1, 1)}
	m := run(t, jobs, c, sim.MLPortal)
	// Stopped at 2h15m30s (30 s grace), last checkpoint at 2h: 15.5 minutes on 8 GPUs lost.
	if m.Preemptions != 1 || !near(m.LostGPUHours, 8*15.5/60) || m.Completed != 2 {
		t.Fatalf("lost %g GPU-hours, %d preemptions: %+v", m.LostGPUHours, m.Preemptions, m)
	}
	// a1 starts once b1 has stopped and runs 1h; b1 resumes after it with
	// 8h left.
	grace := 30.0 / 3600
	if want := ((1 + grace) + (2.25 + grace + 1 + 8)) / 2; !near(m.MeanJCTHours, want) {
		t.Fatalf("mean JCT %g, want %g", m.MeanJCTHours, want)
	}
	borrower.Checkpointable = false
	m = run(t, []trace.Job{borrower, tj("a1", "a", 2.25, 8, 1, 1)}, c, sim.MLPortal)
	if !near(m.LostGPUHours, 8*(2.25+30.0/3600)) {
		t.Fatalf("without checkpoints everything is lost: %g", m.LostGPUHours)
	}
}

// TestSpotPrices: preemptible work goes to cheaper spot nodes under
// mlportal.
func TestSpotPrices(t *testing.T) {
	c := sim.Cluster{Nodes: []scheduler.Node{node("a-od", scheduler.PoolOnDemand), node("b-spot", scheduler.PoolSpot)}, Teams: []scheduler.Team{team("a", 16)}}
	j := tj("p", "a", 0, 8, 1, 1)
	j.Preemptible = true
	m := run(t, []trace.Job{j}, c, sim.MLPortal)
	if !near(m.BusyCost, 8*2.5*0.4) {
		t.Fatalf("busy cost %g, want the spot price", m.BusyCost)
	}
}

// TestCompareOnAGeneratedTrace replays a busy generated trace both ways:
// every job finishes, mlportal wastes less and finishes jobs sooner, and
// the comparison is deterministic.
func TestCompareOnAGeneratedTrace(t *testing.T) {
	jobs, err := trace.Generate(trace.Config{Seed: 11, Teams: 6, Jobs: 700, Days: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sim.NewCluster(sim.ClusterConfig{Nodes: 16, GPUsPerNode: 8, SpotFraction: 0.25}, jobs)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sim.Compare(context.Background(), jobs, c, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, b := a.MLPortal, a.Baseline
	if m.Completed != len(jobs) || b.Completed != len(jobs) {
		t.Fatalf("completed %d and %d of %d", m.Completed, b.Completed, len(jobs))
	}
	if m.WastedCost >= b.WastedCost || m.MeanJCTHours >= b.MeanJCTHours || m.Fairness < b.Fairness {
		t.Errorf("mlportal should waste less, finish sooner and be fairer:\nmlportal %+v\nbaseline %+v", m, b)
	}
	if a.OfferedLoad <= 0 || a.GPUs != 128 || a.SpotGPUs != 32 || len(m.Teams) != 6 {
		t.Errorf("summary: %+v", a)
	}
	again, _ := sim.Compare(context.Background(), jobs, c, sim.Options{})
	if diff := cmp.Diff(a, again); diff != "" {
		t.Fatalf("not deterministic:\n%s", diff)
	}
}

func TestNewClusterQuotas(t *testing.T) {
	jobs := []trace.Job{tj("1", "big", 0, 8, 1, 30), tj("2", "small", 0, 1, 1, 1), tj("3", "mid", 0, 4, 1, 10)}
	c, err := sim.NewCluster(sim.ClusterConfig{Nodes: 4, GPUsPerNode: 8}, jobs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, tm := range c.Teams {
		got[tm.Name] = tm.Quota[0].Nominal
	}
	// 32 GPUs split by GPU-hours 240:1:40, small raised to its largest job.
	if diff := cmp.Diff(map[string]int{"big": 27, "mid": 5, "small": 1}, got); diff != "" {
		t.Fatalf("quotas (-want +got):\n%s", diff)
	}
}

func TestNewClusterRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  sim.ClusterConfig
		job  trace.Job
		says string
	}{
		{"unknown type", sim.ClusterConfig{Nodes: 2, GPUsPerNode: 8}, func() trace.Job { j := tj("x", "a", 0, 1, 1, 1); j.GPUType = "h100"; return j }(), "h100"},
		{"replica too big", sim.ClusterConfig{Nodes: 2, GPUsPerNode: 4}, tj("x", "a", 0, 8, 1, 1), "gpusPerNode"},
		{"no GPUs", sim.ClusterConfig{Nodes: 2, GPUsPerNode: 8}, tj("x", "a", 0, 0, 1, 1), "GPU jobs only"},
		{"no nodes", sim.ClusterConfig{Nodes: 0, GPUsPerNode: 8}, tj("x", "a", 0, 1, 1, 1), "nodes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := sim.NewCluster(c.cfg, []trace.Job{c.job})
			if !errors.Is(err, fault.ErrInvalid) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v, want one saying %q", err, c.says)
			}
		})
	}
	if _, err := sim.Compare(context.Background(), nil, sim.Cluster{}, sim.Options{}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("empty trace: %v", err)
	}
}

func TestCancelled(t *testing.T) {
	jobs, _ := trace.Generate(trace.Config{Seed: 1, Jobs: 500})
	c, _ := sim.NewCluster(sim.ClusterConfig{Nodes: 8, GPUsPerNode: 8}, jobs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Run(ctx, jobs, c, sim.Options{}, sim.MLPortal); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}
