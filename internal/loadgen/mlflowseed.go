package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver for MLflow's SQLite store
)

// MLflow's REST API seeds 10–25 runs a second on a shared 2-core machine
// (docs/benchmarks.md), so 100,000 runs would take hours. With -mlflow-seed
// sql the load generator writes the runs straight into the tables of
// MLflow's backend store instead, after `mlflow server` created them: the
// same rows MLflow's own create_run and log_batch write for the REST calls
// the API seeding sends (seen by dumping a REST-seeded store):
//
//	runs            run_uuid, name, source_type UNKNOWN, source_name '', entry_point_name '',
//	                user_id '', status RUNNING, start_time, end_time NULL, source_version '',
//	                lifecycle_stage active, artifact_uri <experiment's location>/<run_uuid>/artifacts,
//	                experiment_id, deleted_time NULL
//	tags            mlflow.runName = the run's name
//	params          model, lr
//	metrics         rmse, accuracy at step 0 (is_nan false)
//	latest_metrics  the same two values
//
// Run 0 still goes through the REST API, and the correctness check then
// proves MLflow answers every search exactly as the seed data implies.

// mlflowStore is a connection to the backend store of a running MLflow.
type mlflowStore struct {
	db       *sql.DB
	postgres bool
}

func openMLflowStore(s *mlflowServer) (*mlflowStore, error) {
	if s.storePostgres {
		db, err := sql.Open("pgx", s.storeDSN)
		return &mlflowStore{db: db, postgres: true}, err
	}
	db, err := sql.Open("sqlite", "file:"+s.storeDSN+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &mlflowStore{db: db}, nil
}

func (m *mlflowStore) q(query string) string {
	if !m.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// seedRuns writes runs from..n-1 of the seed data into experiment expID,
// 500 runs per multi-row INSERT and 5,000 per transaction. On PostgreSQL it
// then runs ANALYZE, which autovacuum would do shortly after such a load.
func (m *mlflowStore) seedRuns(ctx context.Context, expID string, from, n int) error {
	var artifactRoot string
	if err := m.db.QueryRowContext(ctx, m.q("SELECT artifact_location FROM experiments WHERE experiment_id = ?"), atoi(expID)).Scan(&artifactRoot); err != nil {
		return fmt.Errorf("read experiment %s from MLflow's store: %w", expID, err)
	}
	const perStmt, perTx = 500, 5000
	for txStart := from; txStart < n; txStart += perTx {
		tx, err := m.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for start := txStart; start < min(txStart+perTx, n); start += perStmt {
			if err := m.insertRuns(ctx, tx, artifactRoot, atoi(expID), start, min(start+perStmt, txStart+perTx, n), n); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		if txStart/perTx%4 == 3 {
			fmt.Fprintf(os.Stderr, "loadgen: MLflow store: %d of %d runs written\n", min(txStart+perTx, n), n)
		}
	}
	if m.postgres {
		_, err := m.db.ExecContext(ctx, "ANALYZE")
		return err
	}
	return nil
}

// insertRuns writes runs from..to-1 of the n seeded runs.
func (m *mlflowStore) insertRuns(ctx context.Context, tx *sql.Tx, artifactRoot string, expID, from, to, n int) error {
	var runs, tags, params, metrics, latest []any
	for i := from; i < to; i++ {
		id := uuidHex()
		name, ts := runName(i), int64(1_700_000_000_000+i)
		lr := strconv.FormatFloat(float64(i*104729%1000)/1000, 'g', -1, 64)
		runs = append(runs, id, name, "UNKNOWN", "", "", "", "RUNNING", ts, nil, "", "active", artifactRoot+"/"+id+"/artifacts", expID, nil)
		tags = append(tags, "mlflow.runName", name, id)
		params = append(params, "model", model(i), id, "lr", lr, id)
		metrics = append(metrics, "rmse", rmse(i), ts, id, 0, false, "accuracy", accuracy(i, n), ts, id, 0, false)
		latest = append(latest, "rmse", rmse(i), ts, 0, false, id, "accuracy", accuracy(i, n), ts, 0, false, id)
	}
	k := to - from
	for _, ins := range []struct {
		table string
		cols  []string
		rows  int
		args  []any
	}{
		{"runs", []string{"run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id", "status", "start_time",
			"end_time", "source_version", "lifecycle_stage", "artifact_uri", "experiment_id", "deleted_time"}, k, runs},
		{"tags", []string{"key", "value", "run_uuid"}, k, tags},
		{"params", []string{"key", "value", "run_uuid"}, 2 * k, params},
		{"metrics", []string{"key", "value", "timestamp", "run_uuid", "step", "is_nan"}, 2 * k, metrics},
		{"latest_metrics", []string{"key", "value", "timestamp", "step", "is_nan", "run_uuid"}, 2 * k, latest},
	} {
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ins.cols)), ", ") + ")"
		query := "INSERT INTO " + ins.table + " (" + strings.Join(ins.cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", ins.rows), ", ")
		if _, err := tx.ExecContext(ctx, m.q(query), ins.args...); err != nil {
			return fmt.Errorf("insert into MLflow's %s: %w", ins.table, err)
		}
	}
	return nil
}

// analyze gathers the planner's statistics, which neither MLflow nor
// SQLite ever does on its own (-mlflow-analyze: MLflow's best case).
func (m *mlflowStore) analyze(ctx context.Context) error {
	_, err := m.db.ExecContext(ctx, "ANALYZE")
	return err
}

func (m *mlflowStore) Close() error { return m.db.Close() }

// uuidHex is a random run id as MLflow makes them (uuid4().hex).
func uuidHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b)
}
