package cost_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
)

var (
	reader = identity.Principal{Subject: "user:default/victor"}
	pat    = identity.Principal{Subject: "user:default/pat", Admin: true}
	now    = time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
)

func at(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }

// ledger is a real SQLite store with teams vision and fraud and their jobs:
// ended ones in October and November, one running (with an earlier,
// preempted attempt), one requeued after an attempt, and some that never
// held GPUs.
func ledger(t *testing.T) *store.Store {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(t.TempDir(), "mlportal.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, name := range []string{"vision", "fraud"} {
		if err := st.CreateTeam(ctx, team.Team{Name: name, CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range testJobs() {
		if err := st.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func testJobs() []jobs.Job {
	mk := func(id, tm, prj, gpuType string, gpus int, st jobs.State, finished time.Time, gpuSeconds, c float64) jobs.Job {
		return jobs.Job{ID: id, Team: tm, Project: prj, Name: id, GPUType: gpuType, GPUs: gpus, Replicas: 1, State: st,
			FinishedAt: finished, GPUSeconds: gpuSeconds, Cost: c, Pool: "on-demand", SubmittedAt: at(1, 0), UpdatedAt: now, Version: 1}
	}
	running := mk("job_3", "vision", "other", "h100", 2, jobs.StateRunning, time.Time{}, 3600, 6)
	running.StartedAt = now.Add(-time.Hour)
	return []jobs.Job{
		mk("job_1", "vision", "churn", "a100", 4, jobs.StateSucceeded, time.Date(2026, 10, 15, 8, 0, 0, 0, time.UTC), 4*3600, 12.8),
		mk("job_2", "vision", "churn", "a100", 2, jobs.StateFailed, at(1, 10), 7200, 6.4),
		running,
		mk("job_4", "fraud", "model", "t4", 1, jobs.StateSucceeded, at(1, 0), 3600, 1),
		mk("job_5", "vision", "churn", "any", 1, jobs.StateQueued, time.Time{}, 0, 0),
		mk("job_6", "vision", "churn", "any", 1, jobs.StateCancelled, at(2, 0), 0, 0),
		mk("job_7", "vision", "churn", "a100", 1, jobs.StateQueued, time.Time{}, 1800, 1.6),
	}
}

func newService(t *testing.T) (*cost.Service, *clock.Fake) {
	st := ledger(t)
	clk := clock.NewFake(now)
	return cost.NewService(st, st, st, prices, clk, nil), clk
}

var approx = cmpopts.EquateApprox(0, 1e-9)

func TestReport(t *testing.T) {
	svc, _ := newService(t)
	tests := []struct {
		name string
		q    cost.Query
		want []cost.Line
	}{
		{name: "by team, all time; the running job counts to now", q: cost.Query{}, want: []cost.Line{
			{Key: cost.Key{Team: "fraud"}, Jobs: 1, GPUSeconds: 3600, Cost: 1},
			{Key: cost.Key{Team: "vision"}, Jobs: 4, GPUSeconds: 14400 + 7200 + 3600 + 2*3600 + 1800, Cost: 12.8 + 6.4 + 6 + 2*6 + 1.6},
		}},
		{name: "by month: ended jobs where they ended, unfinished ones now", q: cost.Query{Team: "vision", GroupBy: cost.ByMonth}, want: []cost.Line{
			{Key: cost.Key{Month: "2026-10"}, Jobs: 1, GPUSeconds: 14400, Cost: 12.8},
			{Key: cost.Key{Month: "2026-11"}, Jobs: 3, GPUSeconds: 7200 + 3600 + 7200 + 1800, Cost: 6.4 + 6 + 12 + 1.6},
		}},
		{name: "by project", q: cost.Query{Team: "vision", GroupBy: cost.ByProject}, want: []cost.Line{
			{Key: cost.Key{Team: "vision", Project: "churn"}, Jobs: 3, GPUSeconds: 14400 + 7200 + 1800, Cost: 12.8 + 6.4 + 1.6},
			{Key: cost.Key{Team: "vision", Project: "other"}, Jobs: 1, GPUSeconds: 3600 + 7200, Cost: 6 + 12},
		}},
		{name: "by GPU type, one project", q: cost.Query{Team: "vision", Project: "churn", GroupBy: cost.ByGPUType}, want: []cost.Line{
			{Key: cost.Key{GPUType: "a100"}, Jobs: 3, GPUSeconds: 14400 + 7200 + 1800, Cost: 12.8 + 6.4 + 1.6},
		}},
		{name: "October: no running jobs", q: cost.Query{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: at(1, 0)}, want: []cost.Line{
			{Key: cost.Key{Team: "vision"}, Jobs: 1, GPUSeconds: 14400, Cost: 12.8},
		}},
		{name: "this month", q: cost.Query{From: at(1, 0), GroupBy: cost.ByGPUType}, want: []cost.Line{
			{Key: cost.Key{GPUType: "a100"}, Jobs: 2, GPUSeconds: 7200 + 1800, Cost: 6.4 + 1.6},
			{Key: cost.Key{GPUType: "h100"}, Jobs: 1, GPUSeconds: 3600 + 7200, Cost: 18},
			{Key: cost.Key{GPUType: "t4"}, Jobs: 1, GPUSeconds: 3600, Cost: 1},
		}},
		{name: "nothing", q: cost.Query{Team: "nobody"}, want: []cost.Line{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := svc.Report(t.Context(), reader, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.Lines, approx); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			var total cost.Line
			for _, l := range tt.want {
				total.Jobs, total.GPUSeconds, total.Cost = total.Jobs+l.Jobs, total.GPUSeconds+l.GPUSeconds, total.Cost+l.Cost
			}
			if diff := cmp.Diff(total, r.Total, approx); diff != "" || r.Currency != "USD" || !r.AsOf.Equal(now) {
				t.Errorf("total (-want +got):\n%s; currency %s as of %s", diff, r.Currency, r.AsOf)
			}
		})
	}
	for _, q := range []cost.Query{{Project: "churn"}, {From: at(2, 0), To: at(1, 0)}, {GroupBy: "day"}} {
		if _, err := svc.Report(t.Context(), reader, q); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", q, err)
		}
	}
	if _, err := svc.Report(t.Context(), identity.Principal{}, cost.Query{}); !errors.Is(err, fault.ErrPermissionDenied) {
		t.Errorf("anonymous: %v", err)
	}
}

// Vision has spent 26 USD this month (6.4 + 6 + 12 running + 1.6).
func TestBudget(t *testing.T) {
	svc, clk := newService(t)
	ctx := t.Context()
	f := func(v float64) *float64 { return &v }

	st, err := svc.GetBudget(ctx, reader, "vision")
	if err != nil || st.State != cost.BudgetNone || !near(st.Spent, 26) || st.Month != "2026-11" {
		t.Fatalf("no budget: %+v %v", st, err)
	}
	if w, err := svc.Check(ctx, "vision"); w != "" || err != nil {
		t.Fatalf("check without a budget: %q %v", w, err)
	}
	for _, tc := range []struct {
		who  identity.Principal
		team string
		spec cost.BudgetSpec
		kind error
	}{
		{reader, "vision", cost.BudgetSpec{MonthlyAmount: 100}, fault.ErrPermissionDenied},
		{pat, "vision", cost.BudgetSpec{MonthlyAmount: 0}, fault.ErrInvalid},
		{pat, "vision", cost.BudgetSpec{MonthlyAmount: 100, WarningThreshold: f(1.5)}, fault.ErrInvalid},
		{pat, "nobody", cost.BudgetSpec{MonthlyAmount: 100}, fault.ErrNotFound},
	} {
		if _, err := svc.SetBudget(ctx, tc.who, tc.team, tc.spec, 0); !errors.Is(err, tc.kind) {
			t.Errorf("%+v: %v, want %v", tc, err, tc.kind)
		}
	}

	tests := []struct {
		name    string
		spec    cost.BudgetSpec
		state   cost.BudgetState
		warning string // in Check's warning
		refused string // in Check's error
	}{
		{name: "well within", spec: cost.BudgetSpec{MonthlyAmount: 100, HardLimit: true}, state: cost.BudgetOK},
		{name: "over the default threshold", spec: cost.BudgetSpec{MonthlyAmount: 30, HardLimit: true}, state: cost.BudgetWarning,
			warning: "team vision has spent 26.00 of 30.00 USD (87%) of its 2026-11 budget, and new jobs are refused at 100%"},
		{name: "under a higher threshold", spec: cost.BudgetSpec{MonthlyAmount: 30, WarningThreshold: f(0.9)}, state: cost.BudgetOK},
		{name: "over a soft limit", spec: cost.BudgetSpec{MonthlyAmount: 20}, state: cost.BudgetExceeded, warning: "is over its 2026-11 budget"},
		{name: "over a hard limit", spec: cost.BudgetSpec{MonthlyAmount: 25, HardLimit: true}, state: cost.BudgetExceeded,
			refused: "team vision has spent 26.00 of 25.00 USD (104%) of its monthly budget for 2026-11, which is a hard limit: new jobs are refused until the month ends; a platform admin can raise it with `mlportal budget set --team vision --amount N`"},
	}
	version := int64(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := svc.SetBudget(ctx, pat, "vision", tt.spec, version)
			if err != nil {
				t.Fatal(err)
			}
			version = st.Version
			if st.State != tt.state || st.UpdatedBy != pat.Subject || !near(st.Spent, 26) {
				t.Errorf("status: %+v", st)
			}
			w, err := svc.Check(ctx, "vision")
			if tt.refused != "" {
				if !errors.Is(err, fault.ErrPermissionDenied) || !strings.Contains(err.Error(), tt.refused) {
					t.Errorf("check: %v, want refused with %q", err, tt.refused)
				}
				return
			}
			if err != nil || (tt.warning == "") != (w == "") || !strings.Contains(w, tt.warning) {
				t.Errorf("check: %q %v, want a warning with %q", w, err, tt.warning)
			}
		})
	}
	if _, err := svc.SetBudget(ctx, pat, "vision", cost.BudgetSpec{MonthlyAmount: 50}, version-1); !errors.Is(err, fault.ErrPreconditionFailed) {
		t.Errorf("stale version: %v", err)
	}
	// In December the jobs that ended in November no longer count; the
	// running one (all of its time so far) and the requeued one do.
	clk.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	st, _ = svc.GetBudget(ctx, reader, "vision")
	if want := 6 + 2*6*493 + 1.6; st.Month != "2026-12" || !near(st.Spent, want) {
		t.Errorf("December: month %s spent %v, want %v", st.Month, st.Spent, want)
	}
}
