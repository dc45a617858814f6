package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/testenv"
)

// benchJobs is the size of the cost roll-up benchmark's jobs table: 20
// teams × 5 projects, ended over twelve months, 1 % still running.
const benchJobs = 100_000

// BenchmarkSumJobCosts measures the roll-ups behind GET /api/v1/costs and
// every budget check (one team, this month) over benchJobs jobs:
//
//	go test ./internal/store -run '^$' -bench SumJobCosts -benchtime 200x
func BenchmarkSumJobCosts(b *testing.B) {
	for _, be := range []struct {
		driver string
		dsn    func(b *testing.B) string
	}{
		{SQLite, func(b *testing.B) string { return filepath.Join(b.TempDir(), "mlportal.db") }},
		{Postgres, func(b *testing.B) string { return testenv.Postgres(b) }},
	} {
		b.Run(be.driver, func(b *testing.B) {
			s, err := Open(b.Context(), be.driver, be.dsn(b), Options{MaxOpenConns: 8})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			fillJobs(b, s)
			monthStart := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			for _, q := range []struct {
				name string
				f    cost.LedgerFilter
				g    cost.GroupBy
			}{
				{"budget-one-team-this-month", cost.LedgerFilter{Team: "team-07", From: monthStart, To: monthStart.AddDate(0, 1, 0), Unfinished: true, Month: "2026-11"}, cost.ByTeam},
				{"one-team-by-project-all-time", cost.LedgerFilter{Team: "team-07", Unfinished: true, Month: "2026-11"}, cost.ByProject},
				{"all-teams-by-month", cost.LedgerFilter{Unfinished: true, Month: "2026-11"}, cost.ByMonth},
				{"all-teams-one-month-by-gpu-type", cost.LedgerFilter{From: monthStart.AddDate(0, -1, 0), To: monthStart}, cost.ByGPUType},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := s.SumJobCosts(b.Context(), q.f, q.g); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func fillJobs(b *testing.B, s *Store) {
	b.Helper()
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	gpuTypes := []string{"a100", "h100", "l4", "t4"}
	err := s.inTx(b.Context(), func(tx *sql.Tx) error {
		for i := range benchJobs {
			j := jobs.Job{ID: fmt.Sprintf("job_%08d", i), Team: fmt.Sprintf("team-%02d", i%20), Project: fmt.Sprintf("p%d", i%100/20),
				Name: "j", GPUType: gpuTypes[i%4], GPUs: 1 + i%8, Replicas: 1, State: jobs.StateSucceeded, Pool: "on-demand",
				GPUSeconds: float64(3600 * (1 + i%5)), Cost: float64(3 * (1 + i%5)), Version: 1}
			j.SubmittedAt = start.Add(time.Duration(i) * (365 * 24 * time.Hour / benchJobs))
			j.FinishedAt, j.UpdatedAt = j.SubmittedAt.Add(time.Hour), j.SubmittedAt
			if i%100 == 0 {
				j.State, j.FinishedAt, j.StartedAt = jobs.StateRunning, time.Time{}, j.SubmittedAt
			}
			spec, status, err := jobJSON(j)
			if err != nil {
				return err
			}
			if _, err := s.exec(b.Context(), tx, `INSERT INTO jobs (`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				j.ID, j.Team, j.Project, j.Name, string(j.State), spec, status, j.GPUSeconds, j.CreatedBy, micros(j.SubmittedAt),
				finishedMicros(j.FinishedAt), micros(j.UpdatedAt), j.Version, j.Cost, j.Pool, j.GPUType, chargedMonth(j)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if s.driver == Postgres {
		if _, err := s.db.ExecContext(b.Context(), "VACUUM ANALYZE jobs"); err != nil {
			b.Fatal(err)
		}
	}
}
