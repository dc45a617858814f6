package jobs_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/scheduler"
)

// Each attempt is priced at the GPU type and pool of the nodes it ran on,
// next to its GPU-seconds.
func TestAttemptsArePriced(t *testing.T) {
	spot := node("s1", 8)
	spot.Pool = scheduler.PoolSpot
	f := newFixture(t, spot)
	prices := cost.Prices{Currency: "USD", GPU: map[string]cost.PoolPrices{"a100": {OnDemand: 3.2, Spot: 1.1}}}
	f.ctl = jobs.NewController(jobs.ControllerConfig{Repo: f.store, Teams: f.store, Executor: f.exec, Leases: f.store, Clock: f.clock,
		Log: quiet, Policy: scheduler.DefaultPolicy(), Owner: "replica-a", Pricer: prices})
	j, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(2)})
	if err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	if got := f.job(t, j.ID); got.Pool != "spot" {
		t.Fatalf("admitted on pool %q", got.Pool)
	}
	f.cycle(t)
	f.clock.Advance(90 * time.Minute)
	f.exec.set(j.ID, executor.PhaseSucceeded)
	f.cycle(t)
	got := f.job(t, j.ID)
	if got.State != jobs.StateSucceeded || math.Abs(got.Cost-2*1.5*1.1) > 1e-9 || got.GPUSeconds != 2*5400 {
		t.Fatalf("after success: %s cost %v gpuSeconds %v", got.State, got.Cost, got.GPUSeconds)
	}
}

// The budget check refuses a submission or adds its warning to the job's
// reason.
func TestBudgetCheckOnSubmit(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	refused := fault.Denied("team vision has spent 26.00 of 25.00 USD (104%%) of its monthly budget")
	check := func(_ context.Context, team string) (string, error) {
		if team == "vision" {
			return "", refused
		}
		return "budget warning: team speech has spent 85%", nil
	}
	svc := jobs.NewService(f.store, f.store, f.store, catalog(t), f.exec, f.ctl, f.clock, nil, jobs.WithBudgetCheck(check))
	if _, err := svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model"}); !errors.Is(err, refused) {
		t.Fatalf("over a hard limit: %v", err)
	}
	if js, _ := f.store.ListJobs(t.Context(), jobs.Filter{Team: "vision"}, "", 10); len(js) != 0 {
		t.Fatalf("a refused job was queued: %v", js)
	}
	j, err := svc.Submit(t.Context(), bob, jobs.SubmitRequest{Team: "speech", Project: "model"})
	if err != nil || j.State != jobs.StateQueued || !strings.HasSuffix(j.Reason, "; budget warning: team speech has spent 85%") {
		t.Fatalf("warning: %q %v", j.Reason, err)
	}
}

func catalog(t *testing.T) *lifecycle.Catalog {
	t.Helper()
	cat, err := lifecycle.NewCatalog(lifecycle.Shipped())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}
