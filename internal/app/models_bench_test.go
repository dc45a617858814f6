package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/testenv"
)

// seedModels writes n registered models, each with one version from its
// own run (2 params, 2 metrics, 4 tags) and its MLmodel facts already
// cached, in a few multi-row statements of one transaction.
func seedModels(b *testing.B, cfg config.Config, n int) {
	b.Helper()
	driver, dsn := "sqlite", "file:"+cfg.Database.DSN+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if cfg.Database.Driver == config.DriverPostgres {
		driver, dsn = "pgx", cfg.Database.DSN
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	insert := func(table string, cols []string, rows int, row func(i int) []any) {
		const per = 400
		for start := 0; start < rows; start += per {
			end := min(start+per, rows)
			var vals []string
			var args []any
			for i := start; i < end; i++ {
				ph := make([]string, len(cols))
				for j := range cols {
					if driver == "pgx" {
						ph[j] = fmt.Sprintf("$%d", len(args)+j+1)
					} else {
						ph[j] = "?"
					}
				}
				vals = append(vals, "("+strings.Join(ph, ", ")+")")
				args = append(args, row(i)...)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES "+strings.Join(vals, ", "), args...); err != nil {
				b.Fatalf("seed %s: %v", table, err)
			}
		}
	}
	run := func(i int) string { return fmt.Sprintf("%032x", i) }
	model := func(i int) string { return fmt.Sprintf("model-%05d", i) }
	insert("experiments", []string{"id", "name", "team", "artifact_location", "lifecycle_stage", "creation_time", "last_update_time"}, 1,
		func(int) []any { return []any{1, "bench", "ml", "mlflow-artifacts:/1", "active", 1, 1} })
	insert("runs", []string{"id", "experiment_id", "name", "user_id", "status", "start_time", "end_time", "artifact_uri", "lifecycle_stage"}, n,
		func(i int) []any {
			return []any{run(i), 1, fmt.Sprint("run-", i), "ada", "FINISHED", 1, 2, "mlflow-artifacts:/1/" + run(i) + "/artifacts", "active"}
		})
	tags := []string{"mlportal.project", "mlportal.job", "mlflow.source.git.repoURL", "mlflow.source.git.commit"}
	insert("run_tags", []string{"run_id", "key", "value"}, 4*n, func(k int) []any {
		i := k / 4
		return []any{run(i), tags[k%4], []string{fmt.Sprint("project-", i%20), fmt.Sprint("job_", i), "https://git.example/ml/churn.git", "4f1c2d3"}[k%4]}
	})
	insert("run_params", []string{"run_id", "key", "value"}, 2*n, func(k int) []any { return []any{run(k / 2), []string{"C", "solver"}[k%2], "1.0"} })
	insert("run_latest_metrics", []string{"run_id", "key", "step", "timestamp", "value", "is_nan"}, 2*n,
		func(k int) []any { return []any{run(k / 2), []string{"auc", "rmse"}[k%2], 0, 1, 0.5, 0} })
	insert("registered_models", []string{"name", "team", "description", "creation_time", "last_update_time", "next_version"}, n,
		func(i int) []any { return []any{model(i), "ml", "a benchmark model", 1, 1, 2} })
	insert("registered_model_tags", []string{"name", "key", "value"}, n, func(i int) []any { return []any{model(i), "mlportal.team", "ml"} })
	insert("model_versions", []string{"name", "version", "creation_time", "last_update_time", "user_id", "current_stage", "source", "storage_location",
		"run_id", "status"}, n, func(i int) []any {
		stage := []string{"None", "Staging", "Production"}[i%3]
		return []any{model(i), 1, 1, 1, "ada", stage, "runs:/" + run(i) + "/model", "mlflow-artifacts:/1/" + run(i) + "/artifacts/model", run(i), "READY"}
	})
	sig := `{"Inputs":[{"Name":"age","Type":"double","Shape":null,"Optional":false}],"Outputs":[{"Name":"","Type":"long","Shape":null,"Optional":false}]}`
	insert("model_version_facts", []string{"name", "version", "available", "framework", "flavors", "digest", "signature", "read_at"}, n,
		func(i int) []any {
			return []any{model(i), 1, 1, "sklearn", `["python_function","sklearn"]`, "sha256:" + strings.Repeat("ab", 32), sig, 1}
		})
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListModels10k is the catalog's full sync: every page of
// GET /api/v1/models (500 a page, the maximum) over 10,000 models, each
// with its newest version enriched (run, metrics, params, code, facts),
// decoded as a client does. One op is the whole sync.
func BenchmarkListModels10k(b *testing.B) {
	const n = 10_000
	for _, backend := range []string{config.DriverSQLite, config.DriverPostgres} {
		b.Run(backend, func(b *testing.B) {
			if backend == config.DriverPostgres && os.Getenv("MLPORTAL_TEST_POSTGRES_DSN") == "" {
				b.Skip("MLPORTAL_TEST_POSTGRES_DSN is not set (make postgres)")
			}
			srv := apptest.Start(b, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
				if backend == config.DriverPostgres {
					cfg.Database.Driver, cfg.Database.DSN = config.DriverPostgres, testenv.Postgres(b)
				}
			})
			seedModels(b, srv.Config, n)
			client := &http.Client{}
			sync := func() int {
				total, token := 0, ""
				for {
					req, _ := http.NewRequest("GET", srv.URL+"/api/v1/models?limit=500&pageToken="+token, http.NoBody)
					req.Header.Set("Authorization", "Bearer root")
					res, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					var page api.ModelList
					err = json.NewDecoder(res.Body).Decode(&page)
					res.Body.Close()
					if err != nil || res.StatusCode != 200 {
						b.Fatalf("status %d: %v", res.StatusCode, err)
					}
					total += len(page.Items)
					if page.NextPageToken == nil {
						return total
					}
					token = *page.NextPageToken
				}
			}
			if got := sync(); got != n {
				b.Fatalf("synced %d models, want %d", got, n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				sync()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/model")
		})
	}
}
