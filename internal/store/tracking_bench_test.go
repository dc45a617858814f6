package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/testenv"
	"github.com/mlportal/mlportal/internal/tracking"
)

// benchStores runs bench once per backend: SQLite always, PostgreSQL unless
// -short.
func benchStores(b *testing.B, bench func(b *testing.B, s *Store)) {
	b.Run("sqlite", func(b *testing.B) {
		bench(b, openBenchStore(b, SQLite, filepath.Join(b.TempDir(), "bench.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		if testing.Short() {
			b.Skip("integration tier: PostgreSQL")
		}
		bench(b, openBenchStore(b, Postgres, testenv.Postgres(b)))
	})
}

func openBenchStore(b *testing.B, driver, dsn string) *Store {
	s, err := Open(context.Background(), driver, dsn, Options{MaxOpenConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkLogBatch1000Metrics logs one batch of 1,000 metric values (100
// keys × 10 steps) per iteration.
func BenchmarkLogBatch1000Metrics(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		e, err := s.CreateExperiment(ctx, tracking.Experiment{Name: "bench", LifecycleStage: "active"})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.CreateRun(ctx, tracking.Run{Info: tracking.RunInfo{ID: "run", ExperimentID: e.ID, Name: "r", Status: "RUNNING",
			StartTime: 1, ArtifactURI: "x", LifecycleStage: "active"}}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ms := make([]tracking.Metric, 0, 1000)
			for k := 0; k < 100; k++ {
				for st := 0; st < 10; st++ {
					ms = append(ms, tracking.Metric{Key: fmt.Sprintf("metric_%d", k), Value: float64(i*10 + st), Step: int64(i*10 + st), Timestamp: int64(i)})
				}
			}
			if err := s.LogBatch(ctx, "run", tracking.Batch{Metrics: ms}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bulkInsert writes rows through multi-row INSERTs in one transaction: the
// benchmarks' fast seeding path, not the API's.
func bulkInsert(b *testing.B, s *Store, table string, cols []string, n int, row func(i int) []any) {
	b.Helper()
	ctx := context.Background()
	const per = 500
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < n; start += per {
			end := min(start+per, n)
			args := make([]any, 0, (end-start)*len(cols))
			for i := start; i < end; i++ {
				args = append(args, row(i)...)
			}
			q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + rowsOf(len(cols), end-start)
			if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSearchRuns100k searches 100,000 runs of one experiment for
// `metrics.rmse < 0.2 and params.model = 'm3'` ordered by metrics.accuracy
// DESC, 100 runs a page (about 2,000 runs match).
func BenchmarkSearchRuns100k(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		const n = 100_000
		ctx := context.Background()
		e, err := s.CreateExperiment(ctx, tracking.Experiment{Name: "bench", LifecycleStage: "active"})
		if err != nil {
			b.Fatal(err)
		}
		id := func(i int) string { return fmt.Sprintf("%032x", i) }
		bulkInsert(b, s, "runs", []string{"id", "experiment_id", "name", "user_id", "status", "start_time", "artifact_uri", "lifecycle_stage"}, n,
			func(i int) []any {
				return []any{id(i), mustInt(e.ID), fmt.Sprintf("run-%d", i), "bench", "FINISHED", int64(1_700_000_000_000 + i), "x", "active"}
			})
		frac := func(i, salt int) float64 { return float64((i*7919+salt*104729)%1000) / 1000 }
		exp := mustInt(e.ID)
		bulkInsert(b, s, "run_latest_metrics", []string{"run_id", "experiment_id", "key", "step", "timestamp", "value", "is_nan"}, 2*n, func(j int) []any {
			i, k := j/2, j%2
			return []any{id(i), exp, []string{"rmse", "accuracy"}[k], 0, 1, frac(i, k), 0}
		})
		bulkInsert(b, s, "run_params", []string{"run_id", "experiment_id", "key", "value"}, 2*n, func(j int) []any {
			i, k := j/2, j%2
			if k == 0 {
				return []any{id(i), exp, "model", fmt.Sprintf("m%d", i%10)}
			}
			return []any{id(i), exp, "lr", fmt.Sprintf("%g", frac(i, 3))}
		})
		// What autovacuum does on PostgreSQL after a bulk load (statistics and
		// the visibility map index-only scans need). SQLite gets none: the
		// server never runs ANALYZE, so neither does the benchmark.
		if s.driver == Postgres {
			if _, err := s.db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
				b.Fatal(err)
			}
		}
		f, _ := tracking.ParseFilter("metrics.rmse < 0.2 and params.model = 'm3'")
		o, _ := tracking.ParseOrderBy("metrics.accuracy DESC")
		q := tracking.RunQuery{ExperimentIDs: []string{e.ID}, Filter: f, OrderBy: []tracking.OrderBy{o}, View: tracking.ViewActiveOnly, MaxResults: 100}
		runs, next, err := s.SearchRuns(ctx, q)
		if err != nil || len(runs) != 100 || next == "" {
			b.Fatalf("search: %d runs, next %q, %v", len(runs), next, err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, _, err := s.SearchRuns(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRegistry5000Versions lists and searches a registered model with
// 5,000 versions: the model with its latest versions, a page of 100
// versions by name, and the versions of one run.
func BenchmarkRegistry5000Versions(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		if err := s.CreateRegisteredModel(ctx, modelregistry.RegisteredModel{Name: "big", Team: "ml", CreationTime: 1, LastUpdatedTime: 1}); err != nil {
			b.Fatal(err)
		}
		const n = 5000
		bulkInsert(b, s, "model_versions", []string{"name", "version", "creation_time", "last_update_time", "current_stage", "source",
			"storage_location", "run_id", "status"}, n, func(i int) []any {
			return []any{"big", int64(i + 1), int64(i), int64(i), []string{"None", "Staging", "Production", "Archived"}[i%4],
				"runs:/r/model", "mlflow-artifacts:/1/r/artifacts/model", fmt.Sprintf("run-%d", i), "READY"}
		})
		bulkInsert(b, s, "model_version_tags", []string{"name", "version", "key", "value"}, n, func(i int) []any {
			return []any{"big", int64(i + 1), "quality", fmt.Sprint(i % 3)}
		})
		byName, _ := tracking.ParseFilter("name = 'big'")
		byRun, _ := tracking.ParseFilter("run_id = 'run-4321'")
		b.Run("get-model", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				m, err := s.GetRegisteredModel(ctx, "big")
				if err != nil || len(m.LatestVersions) != 4 {
					b.Fatalf("%d latest, %v", len(m.LatestVersions), err)
				}
			}
		})
		b.Run("search-by-name-100", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				vs, _, err := s.SearchModelVersions(ctx, modelregistry.VersionQuery{Filter: byName, MaxResults: 100})
				if err != nil || len(vs) != 100 {
					b.Fatalf("%d versions, %v", len(vs), err)
				}
			}
		})
		b.Run("search-all-5000", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				vs, _, err := s.SearchModelVersions(ctx, modelregistry.VersionQuery{Filter: byName, MaxResults: 10000})
				if err != nil || len(vs) != n {
					b.Fatalf("%d versions, %v", len(vs), err)
				}
			}
		})
		b.Run("search-by-run", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				vs, _, err := s.SearchModelVersions(ctx, modelregistry.VersionQuery{Filter: byRun, MaxResults: 100})
				if err != nil || len(vs) != 1 {
					b.Fatalf("%d versions, %v", len(vs), err)
				}
			}
		})
	})
}
