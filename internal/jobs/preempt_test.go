package jobs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/scheduler"
)

// graceful is the scripted executor with stops that take their grace
// period, as pods and processes do: Stop records the reason and returns,
// and the job keeps running until the test says it has stopped.
type graceful struct{ *scripted }

func (g graceful) Stop(_ context.Context, id string, reason executor.StopReason, _ time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stops[id] = reason
	return nil
}

// While a preempted job is in its grace period, the job it makes room for
// waits for it, says so, and keeps its nominated node: the cycles in
// between preempt nothing more (they once stopped every other borrower,
// one per cycle, for the same job).
func TestOnePreemptionPerJobDuringTheGracePeriod(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	ex := graceful{f.exec}
	ctl := jobs.NewController(jobs.ControllerConfig{Repo: f.store, Teams: f.store, Executor: ex, Clock: f.clock, Log: quiet,
		Policy: scheduler.DefaultPolicy(), CheckpointRoot: "/ckpt"})
	cycle := func() {
		t.Helper()
		if err := ctl.Cycle(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctl.Settle()
	}
	var borrowers []string
	for range 2 {
		j, err := f.svc.Submit(t.Context(), bob, jobs.SubmitRequest{Team: "speech", Project: "model", GPUs: intp(4)})
		if err != nil {
			t.Fatal(err)
		}
		borrowers = append(borrowers, j.ID)
		f.clock.Advance(time.Second)
	}
	cycle()
	cycle()
	for _, id := range borrowers {
		if got := f.job(t, id); got.State != jobs.StateRunning {
			t.Fatalf("borrower %s: %s %q", id, got.State, got.Reason)
		}
	}
	owner, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(4), Priority: "production"})
	if err != nil {
		t.Fatal(err)
	}
	stopping := func() []string {
		var out []string
		for _, id := range borrowers {
			if f.job(t, id).State == jobs.StateStopping {
				out = append(out, id)
			}
		}
		return out
	}
	cycle() // preempts one borrower
	victims := stopping()
	if len(victims) != 1 {
		t.Fatalf("after reclaim, stopping: %v", victims)
	}
	for range 3 { // the grace period: cycles go on
		f.clock.Advance(time.Second)
		cycle()
	}
	if got := stopping(); !slices.Equal(got, victims) {
		t.Errorf("during the grace period, stopping: %v, want only %v", got, victims)
	}
	o := f.job(t, owner.ID)
	if o.State != jobs.StateQueued || !strings.HasPrefix(o.Reason, "making room: stopping "+victims[0]) || !slices.Equal(o.NominatedNodes, []string{"n1"}) {
		t.Errorf("owner during the grace period: %s %q nominated %v", o.State, o.Reason, o.NominatedNodes)
	}

	f.exec.set(victims[0], executor.PhasePreempted) // its pods are gone
	for range 3 {
		cycle()
	}
	if o := f.job(t, owner.ID); o.State != jobs.StateRunning {
		t.Errorf("owner: %s %q", o.State, o.Reason)
	}
	for _, id := range borrowers {
		got := f.job(t, id)
		if id == victims[0] && (got.State != jobs.StateQueued || got.Preemptions != 1) || id != victims[0] && got.State != jobs.StateRunning {
			t.Errorf("borrower %s: %s preemptions %d %q", id, got.State, got.Preemptions, got.Reason)
		}
	}
}
