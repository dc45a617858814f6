package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/team"
)

func costJob(id, tm, prj, gpuType string, st jobs.State, finished time.Time, gpuSeconds, c float64) jobs.Job {
	return jobs.Job{ID: id, Team: tm, Project: prj, Name: id, GPUType: gpuType, GPUs: 1, Replicas: 1, State: st, FinishedAt: finished,
		GPUSeconds: gpuSeconds, Cost: c, Pool: "spot", SubmittedAt: us(base), UpdatedAt: us(base), Version: 1, Command: []string{"train"}}
}

// The cost columns round-trip through CreateJob and UpdateJob, and the
// month a job is charged to is set when it ends.
func TestJobCostColumns(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		j := costJob("job_1", "vision", "churn", "a100", jobs.StateRunning, time.Time{}, 3600, 1.1)
		if err := s.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetJob(ctx, "job_1")
		if err != nil || got.Cost != 1.1 || got.Pool != "spot" {
			t.Fatalf("GetJob: cost %v pool %q, %v", got.Cost, got.Pool, err)
		}
		if m := count(t, s, `SELECT COUNT(*) FROM jobs WHERE month = '' AND gpu_type = 'a100'`); m != 1 {
			t.Errorf("running job: %d rows with no month", m)
		}
		next := got.Clone()
		next.State, next.FinishedAt, next.Cost, next.Pool, next.Version = jobs.StateSucceeded, time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC), 2.2, "on-demand", 2
		if err := s.UpdateJob(ctx, next, 1); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetJob(ctx, "job_1")
		if got.Cost != 2.2 || got.Pool != "on-demand" {
			t.Errorf("after UpdateJob: cost %v pool %q", got.Cost, got.Pool)
		}
		if m := count(t, s, `SELECT COUNT(*) FROM jobs WHERE month = '2026-11'`); m != 1 {
			t.Errorf("ended job not charged to 2026-11")
		}
	})
}

func TestSumJobCosts(t *testing.T) {
	oct := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, j := range []jobs.Job{
			costJob("job_1", "vision", "churn", "a100", jobs.StateSucceeded, oct, 3600, 3),
			costJob("job_2", "vision", "churn", "a100", jobs.StateFailed, nov, 1800, 1.5),
			costJob("job_3", "vision", "other", "h100", jobs.StateRunning, time.Time{}, 0, 0),
			costJob("job_4", "vision", "other", "h100", jobs.StateQueued, time.Time{}, 600, 1),
			costJob("job_5", "fraud", "model", "t4", jobs.StateSucceeded, nov, 7200, 2),
			costJob("job_6", "fraud", "model", "any", jobs.StateCancelled, nov, 0, 0), // never ran
			costJob("job_7", "fraud", "model", "any", jobs.StateQueued, time.Time{}, 0, 0),
		} {
			if err := s.CreateJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		novStart := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		tests := []struct {
			name string
			f    cost.LedgerFilter
			g    cost.GroupBy
			want []cost.Line
		}{
			{"everything by team", cost.LedgerFilter{Unfinished: true, Month: "2026-11"}, cost.ByTeam, []cost.Line{
				{Key: cost.Key{Team: "fraud"}, Jobs: 1, GPUSeconds: 7200, Cost: 2},
				{Key: cost.Key{Team: "vision"}, Jobs: 4, GPUSeconds: 6000, Cost: 5.5},
			}},
			{"ended only", cost.LedgerFilter{}, cost.ByTeam, []cost.Line{
				{Key: cost.Key{Team: "fraud"}, Jobs: 1, GPUSeconds: 7200, Cost: 2},
				{Key: cost.Key{Team: "vision"}, Jobs: 2, GPUSeconds: 5400, Cost: 4.5},
			}},
			{"by month", cost.LedgerFilter{Team: "vision", Unfinished: true, Month: "2026-11"}, cost.ByMonth, []cost.Line{
				{Key: cost.Key{Month: "2026-10"}, Jobs: 1, GPUSeconds: 3600, Cost: 3},
				{Key: cost.Key{Month: "2026-11"}, Jobs: 3, GPUSeconds: 2400, Cost: 2.5},
			}},
			{"by project in November", cost.LedgerFilter{Team: "vision", From: novStart, Unfinished: true, Month: "2026-11"}, cost.ByProject, []cost.Line{
				{Key: cost.Key{Team: "vision", Project: "churn"}, Jobs: 1, GPUSeconds: 1800, Cost: 1.5},
				{Key: cost.Key{Team: "vision", Project: "other"}, Jobs: 2, GPUSeconds: 600, Cost: 1},
			}},
			{"by GPU type in October", cost.LedgerFilter{To: novStart}, cost.ByGPUType, []cost.Line{
				{Key: cost.Key{GPUType: "a100"}, Jobs: 1, GPUSeconds: 3600, Cost: 3},
			}},
			{"one project", cost.LedgerFilter{Team: "fraud", Project: "model", Unfinished: true}, cost.ByProject, []cost.Line{
				{Key: cost.Key{Team: "fraud", Project: "model"}, Jobs: 1, GPUSeconds: 7200, Cost: 2},
			}},
			{"nothing", cost.LedgerFilter{Team: "nobody"}, cost.ByTeam, []cost.Line{}},
		}
		for _, tt := range tests {
			got, err := s.SumJobCosts(ctx, tt.f, tt.g)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
	})
}

func TestBudgets(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if err := s.CreateTeam(ctx, team.Team{Name: "vision", CreatedAt: us(base), UpdatedAt: us(base), Version: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetBudget(ctx, "vision"); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("no budget: %v", err)
		}
		b := cost.Budget{Team: "vision", MonthlyAmount: 1000, WarningThreshold: 0.8, HardLimit: true, UpdatedBy: "user:default/pat", UpdatedAt: us(base), Version: 1}
		if err := s.PutBudget(ctx, b, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.PutBudget(ctx, b, 0); !errors.Is(err, fault.ErrPreconditionFailed) {
			t.Fatalf("create twice: %v", err)
		}
		got, err := s.GetBudget(ctx, "vision")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(b, got); diff != "" {
			t.Fatalf("GetBudget (-want +got):\n%s", diff)
		}
		b2 := b
		b2.MonthlyAmount, b2.HardLimit, b2.Version = 1500.5, false, 2
		if err := s.PutBudget(ctx, b2, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.PutBudget(ctx, b2, 1); !errors.Is(err, fault.ErrPreconditionFailed) {
			t.Fatalf("stale version: %v", err)
		}
		if got, _ = s.GetBudget(ctx, "vision"); got.MonthlyAmount != 1500.5 || got.HardLimit || got.Version != 2 {
			t.Fatalf("after update: %+v", got)
		}
		if err := s.DeleteTeam(ctx, "vision", 0); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM budgets`); n != 0 {
			t.Errorf("a deleted team's budget remains")
		}
	})
}
