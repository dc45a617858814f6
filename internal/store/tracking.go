package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tracking"
)

var _ tracking.Repository = (*Store)(nil)

// nextSequence allocates the next value of a named counter in tx.
func (s *Store) nextSequence(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var v int64
	err := s.queryRow(ctx, tx, `UPDATE tracking_sequences SET value = value + 1 WHERE name = ? RETURNING value`, name).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("next %s id: %w", name, err)
	}
	return v, nil
}

// CreateExperiment inserts an experiment with the next id and its
// artifact location mlflow-artifacts:/<id>.
func (s *Store) CreateExperiment(ctx context.Context, e tracking.Experiment) (tracking.Experiment, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := s.nextSequence(ctx, tx, "experiment")
		if err != nil {
			return err
		}
		e.ID = strconv.FormatInt(id, 10)
		e.ArtifactLocation = "mlflow-artifacts:/" + e.ID
		_, err = s.exec(ctx, tx, `INSERT INTO experiments (id, name, team, artifact_location, lifecycle_stage, creation_time, last_update_time)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, e.Name, e.Team, e.ArtifactLocation, e.LifecycleStage, e.CreationTime, e.LastUpdateTime)
		if isUniqueViolation(err) {
			return fault.New(fault.ErrAlreadyExists, "experiment %q already exists", e.Name)
		}
		if err != nil {
			return fmt.Errorf("insert experiment: %w", err)
		}
		for _, t := range e.Tags {
			if _, err := s.exec(ctx, tx, `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
				return fmt.Errorf("insert experiment tag: %w", err)
			}
		}
		return nil
	})
	return e, err
}

const experimentColumns = `id, name, team, artifact_location, lifecycle_stage, creation_time, last_update_time`

func scanExperiment(sc interface{ Scan(...any) error }) (tracking.Experiment, error) {
	var e tracking.Experiment
	var id int64
	err := sc.Scan(&id, &e.Name, &e.Team, &e.ArtifactLocation, &e.LifecycleStage, &e.CreationTime, &e.LastUpdateTime)
	e.ID = strconv.FormatInt(id, 10)
	return e, err
}

func (s *Store) getExperiment(ctx context.Context, where string, arg any, notFound error) (tracking.Experiment, error) {
	e, err := scanExperiment(s.queryRow(ctx, nil, `SELECT `+experimentColumns+` FROM experiments WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return e, notFound
	}
	if err != nil {
		return e, fmt.Errorf("get experiment: %w", err)
	}
	es := []tracking.Experiment{e}
	if err := s.loadExperimentTags(ctx, es); err != nil {
		return e, err
	}
	return es[0], nil
}

// GetExperiment returns an experiment by id.
func (s *Store) GetExperiment(ctx context.Context, id string) (tracking.Experiment, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return tracking.Experiment{}, fault.New(fault.ErrNotFound, "No Experiment with id=%s exists", id)
	}
	return s.getExperiment(ctx, "id = ?", n, fault.New(fault.ErrNotFound, "No Experiment with id=%s exists", id))
}

// GetExperimentByName returns an experiment by name.
func (s *Store) GetExperimentByName(ctx context.Context, name string) (tracking.Experiment, error) {
	return s.getExperiment(ctx, "name = ?", name, fault.New(fault.ErrNotFound, "Could not find experiment with name '%s'", name))
}

func (s *Store) loadExperimentTags(ctx context.Context, es []tracking.Experiment) error {
	if len(es) == 0 {
		return nil
	}
	ids := make([]any, len(es))
	idx := make(map[int64]int, len(es))
	for i, e := range es {
		n, _ := strconv.ParseInt(e.ID, 10, 64)
		ids[i], idx[n] = n, i
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (`+placeholders(len(ids))+`) ORDER BY experiment_id, key`), ids...)
	if err != nil {
		return fmt.Errorf("load experiment tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t tracking.Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return err
		}
		es[idx[id]].Tags = append(es[idx[id]].Tags, t)
	}
	return rows.Err()
}

// RenameExperiment changes an experiment's name.
func (s *Store) RenameExperiment(ctx context.Context, id, name string, now int64) error {
	_, err := s.exec(ctx, nil, `UPDATE experiments SET name = ?, last_update_time = ? WHERE id = ?`, name, now, mustInt(id))
	if isUniqueViolation(err) {
		return fault.New(fault.ErrAlreadyExists, "experiment %q already exists", name)
	}
	return err
}

func mustInt(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// SetExperimentStage deletes or restores an experiment and its runs.
func (s *Store) SetExperimentStage(ctx context.Context, id, stage string, now int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE id = ?`, stage, now, mustInt(id)); err != nil {
			return fmt.Errorf("update experiment: %w", err)
		}
		var deleted any
		if stage == tracking.StageDeleted {
			deleted = now
		}
		if _, err := s.exec(ctx, tx, `UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?`, stage, deleted, mustInt(id)); err != nil {
			return fmt.Errorf("update runs of experiment: %w", err)
		}
		return nil
	})
}

// SetExperimentTag sets or replaces an experiment tag.
func (s *Store) SetExperimentTag(ctx context.Context, id string, t tracking.Tag) error {
	_, err := s.exec(ctx, nil, `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, mustInt(id), t.Key, t.Value)
	return err
}

// DeleteExperimentTag removes a tag; a missing one is RESOURCE_DOES_NOT_EXIST.
func (s *Store) DeleteExperimentTag(ctx context.Context, id, key string) error {
	res, err := s.exec(ctx, nil, `DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?`, mustInt(id), key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.ErrNotFound, "No tag with name: %s in experiment with id %s", key, id)
	}
	return nil
}

// CreateRun inserts a run and its tags.
func (s *Store) CreateRun(ctx context.Context, r tracking.Run) error {
	return s.CreateRuns(ctx, []tracking.Run{r})
}

const runInfoColumns = `r.id, r.experiment_id, r.name, r.user_id, r.status, r.start_time, COALESCE(r.end_time, 0), r.artifact_uri, r.lifecycle_stage, e.team`

func scanRunInfo(sc interface{ Scan(...any) error }) (tracking.RunInfo, error) {
	var ri tracking.RunInfo
	var exp int64
	var status string
	err := sc.Scan(&ri.ID, &exp, &ri.Name, &ri.UserID, &status, &ri.StartTime, &ri.EndTime, &ri.ArtifactURI, &ri.LifecycleStage, &ri.Team)
	ri.ExperimentID, ri.Status = strconv.FormatInt(exp, 10), tracking.RunStatus(status)
	return ri, err
}

// GetRunInfo returns a run's metadata and its experiment's team.
func (s *Store) GetRunInfo(ctx context.Context, id string) (tracking.RunInfo, error) {
	ri, err := scanRunInfo(s.queryRow(ctx, nil, `SELECT `+runInfoColumns+` FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ri, fault.New(fault.ErrNotFound, "Run with id=%s not found", id)
	}
	if err != nil {
		return ri, fmt.Errorf("get run: %w", err)
	}
	return ri, nil
}

// GetRun returns a run with its data.
func (s *Store) GetRun(ctx context.Context, id string) (tracking.Run, error) {
	ri, err := s.GetRunInfo(ctx, id)
	if err != nil {
		return tracking.Run{}, err
	}
	runs := []tracking.Run{{Info: ri}}
	if err := s.loadRunData(ctx, runs); err != nil {
		return tracking.Run{}, err
	}
	return runs[0], nil
}

// loadRunData fills params, latest metrics, tags and inputs of runs: one
// query per table for the whole page; on PostgreSQL the four go in one
// round trip (loadRunsPG).
func (s *Store) loadRunData(ctx context.Context, runs []tracking.Run) error {
	if len(runs) == 0 {
		return nil
	}
	if s.driver == Postgres {
		ids := make([]string, len(runs))
		for i, r := range runs {
			ids[i] = r.Info.ID
		}
		_, err := s.loadRunsPG(ctx, ids, runs)
		return err
	}
	ids := make([]any, len(runs))
	for i, r := range runs {
		ids[i] = r.Info.ID
	}
	for _, q := range runDataQueries(runs, "IN ("+placeholders(len(ids))+")") {
		if err := s.eachRunRow(ctx, q, ids...); err != nil {
			return err
		}
	}
	return nil
}

// rowScanner is a row of database/sql or of pgx.
type rowScanner interface{ Scan(dest ...any) error }

// latestMetricColumns are what scanLatestMetric reads of run_latest_metrics.
const latestMetricColumns = `run_id, key, value, is_nan, timestamp, step`

// scanLatestMetric reads a row of latestMetricColumns.
func scanLatestMetric(rows rowScanner) (runID string, m tracking.Metric, err error) {
	var isNaN int
	if err := rows.Scan(&runID, &m.Key, &m.Value, &isNaN, &m.Timestamp, &m.Step); err != nil {
		return "", m, err
	}
	if isNaN == 1 {
		m.Value = math.NaN()
	}
	return runID, m, nil
}

// runQuery is one query of a page's runs: its SQL, whose `IN` holds the
// run ids, and what one row fills in.
type runQuery struct {
	what, sql string
	scan      func(rowScanner) error
}

// eachRunRow runs q with args and scans every row.
func (s *Store) eachRunRow(ctx context.Context, q runQuery, args ...any) error {
	rows, err := s.db.QueryContext(ctx, s.q(q.sql), args...)
	if err != nil {
		return fmt.Errorf("load %s: %w", q.what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := q.scan(rows); err != nil {
			return fmt.Errorf("scan %s: %w", q.what, err)
		}
	}
	return rows.Err()
}

// runDataQueries are the queries that fill params, latest metrics, tags
// and inputs of runs; in is the test on run_id that selects them ("IN (?,
// …)" or "= ANY(?)").
func runDataQueries(runs []tracking.Run, in string) []runQuery {
	idx := make(map[string]int, len(runs))
	for i, r := range runs {
		idx[r.Info.ID] = i
	}
	var runID string
	return []runQuery{
		{"params", `SELECT run_id, key, value FROM run_params WHERE run_id ` + in + ` ORDER BY run_id, key`, func(rows rowScanner) error {
			var p tracking.Param
			if err := rows.Scan(&runID, &p.Key, &p.Value); err != nil {
				return err
			}
			runs[idx[runID]].Params = append(runs[idx[runID]].Params, p)
			return nil
		}},
		{"tags", `SELECT run_id, key, value FROM run_tags WHERE run_id ` + in + ` ORDER BY run_id, key`, func(rows rowScanner) error {
			var t tracking.Tag
			if err := rows.Scan(&runID, &t.Key, &t.Value); err != nil {
				return err
			}
			runs[idx[runID]].Tags = append(runs[idx[runID]].Tags, t)
			return nil
		}},
		{"metrics", `SELECT ` + latestMetricColumns + ` FROM run_latest_metrics WHERE run_id ` + in + ` ORDER BY run_id, key`, func(rows rowScanner) error {
			runID, m, err := scanLatestMetric(rows)
			if err != nil {
				return err
			}
			runs[idx[runID]].Metrics = append(runs[idx[runID]].Metrics, m)
			return nil
		}},
		{"inputs", `SELECT run_id, kind, name, digest, source_type, source, dataset_schema, profile, tags, model_id, step
		FROM run_inputs WHERE run_id ` + in + ` ORDER BY run_id, position`, func(rows rowScanner) error {
			var kind, tags, modelID string
			var d tracking.Dataset
			var step int64
			if err := rows.Scan(&runID, &kind, &d.Name, &d.Digest, &d.SourceType, &d.Source, &d.Schema, &d.Profile, &tags, &modelID, &step); err != nil {
				return err
			}
			r := &runs[idx[runID]]
			switch kind {
			case "dataset":
				di := tracking.DatasetInput{Dataset: d}
				if err := json.Unmarshal([]byte(tags), &di.Tags); err != nil {
					return err
				}
				r.Inputs = append(r.Inputs, di)
			case "model_input":
				r.ModelInputs = append(r.ModelInputs, modelID)
			case "model_output":
				r.ModelOutputs = append(r.ModelOutputs, tracking.ModelOutput{ModelID: modelID, Step: step})
			}
			return nil
		}},
	}
}

// UpdateRun sets status, end time and (if not empty) the name.
func (s *Store) UpdateRun(ctx context.Context, id string, status tracking.RunStatus, endTime int64, name string) (tracking.RunInfo, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var end any
		if endTime != 0 {
			end = endTime
		}
		if _, err := s.exec(ctx, tx, `UPDATE runs SET status = ?, end_time = ? WHERE id = ?`, string(status), end, id); err != nil {
			return fmt.Errorf("update run: %w", err)
		}
		if name == "" {
			return nil
		}
		expID, err := s.runExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.upsertRunTags(ctx, tx, id, expID, []tracking.Tag{{Key: tracking.TagRunName, Value: name}})
	})
	if err != nil {
		return tracking.RunInfo{}, err
	}
	return s.GetRunInfo(ctx, id)
}

// SetRunStage deletes or restores a run.
func (s *Store) SetRunStage(ctx context.Context, id, stage string, now int64) error {
	var deleted any
	if stage == tracking.StageDeleted {
		deleted = now
	}
	_, err := s.exec(ctx, nil, `UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?`, stage, deleted, id)
	return err
}

// runExperiment returns the experiment of a run, which the param, tag and
// latest-metric rows carry so that a search's filters read one
// experiment's rows through their (experiment_id, key, value) indexes.
func (s *Store) runExperiment(ctx context.Context, tx *sql.Tx, runID string) (int64, error) {
	var expID int64
	err := s.queryRow(ctx, tx, `SELECT experiment_id FROM runs WHERE id = ?`, runID).Scan(&expID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fault.New(fault.ErrNotFound, "Run with id=%s not found", runID)
	}
	return expID, err
}

// upsertRunTags sets tags; mlflow.runName also renames the run, as MLflow does.
func (s *Store) upsertRunTags(ctx context.Context, tx *sql.Tx, runID string, expID int64, tags []tracking.Tag) error {
	for _, t := range tags {
		if _, err := s.exec(ctx, tx, `INSERT INTO run_tags (run_id, experiment_id, key, value) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, runID, expID, t.Key, t.Value); err != nil {
			return fmt.Errorf("set run tag: %w", err)
		}
		if t.Key == tracking.TagRunName {
			if _, err := s.exec(ctx, tx, `UPDATE runs SET name = ? WHERE id = ?`, t.Value, runID); err != nil {
				return fmt.Errorf("rename run: %w", err)
			}
		}
	}
	return nil
}

// DeleteRunTag removes a run tag; a missing one is RESOURCE_DOES_NOT_EXIST.
func (s *Store) DeleteRunTag(ctx context.Context, runID, key string) error {
	res, err := s.exec(ctx, nil, `DELETE FROM run_tags WHERE run_id = ? AND key = ?`, runID, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.ErrNotFound, "No tag with name: %s in run with id %s", key, runID)
	}
	return nil
}

const batchRows = 1000 // rows per multi-row INSERT: one statement for a full log-batch

// LogBatch writes a batch in one transaction: params (immutable), tags,
// every metric value, and the latest value per key.
//
// Its multi-row INSERTs come in a few fixed sizes (chunks) and are prepared
// on the pool before the transaction begins: a statement first prepared
// inside a transaction is prepared again on every call, and parsing an
// INSERT of 1,000 rows cost SQLite as much as executing it.
func (s *Store) LogBatch(ctx context.Context, runID string, b tracking.Batch) error {
	var queries []string
	for _, n := range chunks(len(b.Params)) {
		queries = append(queries, insertParamsSQL(n))
	}
	latest := 0
	seen := map[string]bool{}
	for _, m := range b.Metrics {
		if !seen[m.Key] {
			seen[m.Key] = true
			latest++
		}
	}
	for _, n := range chunks(len(b.Metrics)) {
		queries = append(queries, insertMetricsSQL(n))
	}
	for _, n := range chunks(latest) {
		queries = append(queries, upsertLatestSQL(n))
	}
	for _, q := range queries {
		if _, err := s.prepared(ctx, q); err != nil {
			return fmt.Errorf("prepare log-batch: %w", err)
		}
	}
	if s.driver == Postgres && len(b.Metrics) > 0 {
		return s.logBatchCopy(ctx, runID, b)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		expID, err := s.logParamsAndTags(ctx, tx, runID, b)
		if err != nil {
			return err
		}
		return s.insertMetrics(ctx, tx, runID, expID, b.Metrics)
	})
}

func (s *Store) insertParams(ctx context.Context, tx *sql.Tx, runID string, expID int64, ps []tracking.Param) error {
	if len(ps) == 0 {
		return nil
	}
	rows, err := s.query(ctx, tx, `SELECT key, value FROM run_params WHERE run_id = ?`, runID)
	if err != nil {
		return fmt.Errorf("read params: %w", err)
	}
	have := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return err
		}
		have[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var fresh []tracking.Param
	seen := map[string]bool{}
	for _, p := range ps {
		if old, ok := have[p.Key]; ok {
			if old != p.Value {
				return fault.Invalid(fmt.Sprintf("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.", p.Key, old, runID, p.Value),
					fault.Field("params", "param %q is already logged with another value", p.Key))
			}
			continue
		}
		if !seen[p.Key] {
			seen[p.Key] = true
			fresh = append(fresh, p)
		}
	}
	start := 0
	for _, n := range chunks(len(fresh)) {
		chunk := fresh[start : start+n]
		start += n
		args := make([]any, 0, 4*len(chunk))
		for _, p := range chunk {
			args = append(args, runID, expID, p.Key, p.Value)
		}
		if _, err := s.exec(ctx, tx, insertParamsSQL(n), args...); err != nil {
			return fmt.Errorf("insert params: %w", err)
		}
	}
	return nil
}

func insertParamsSQL(rows int) string {
	return `INSERT INTO run_params (run_id, experiment_id, key, value) VALUES ` + rowsOf(4, rows)
}

func insertMetricsSQL(rows int) string {
	return `INSERT INTO run_metrics (run_id, key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest)
			VALUES ` + rowsOf(9, rows) + ` ON CONFLICT DO NOTHING`
}

func upsertLatestSQL(rows int) string {
	return `INSERT INTO run_latest_metrics (run_id, experiment_id, key, step, timestamp, value, is_nan) VALUES ` + rowsOf(7, rows) + `
			ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan
			WHERE excluded.step > run_latest_metrics.step
			   OR (excluded.step = run_latest_metrics.step AND excluded.timestamp > run_latest_metrics.timestamp)
			   OR (excluded.step = run_latest_metrics.step AND excluded.timestamp = run_latest_metrics.timestamp AND excluded.value > run_latest_metrics.value)`
}

// chunkSizes are the row counts of the multi-row INSERTs: a few fixed
// sizes keep the number of distinct prepared statements small.
var chunkSizes = []int{batchRows, 100, 10, 1}

// chunks splits n rows into statements of chunkSizes, largest first.
func chunks(n int) []int {
	var out []int
	for _, size := range chunkSizes {
		for ; n >= size; n -= size {
			out = append(out, size)
		}
	}
	return out
}

// rowsOf returns "(?, ?), (?, ?)" for n rows of cols values.
func rowsOf(cols, n int) string {
	row := "(" + placeholders(cols) + ")"
	b := make([]byte, 0, n*(len(row)+2))
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, row...)
	}
	return string(b)
}

func metricValue(m tracking.Metric) (float64, int) {
	if math.IsNaN(m.Value) {
		return 0, 1
	}
	return m.Value, 0
}

// newer reports whether a is after b in MLflow's latest-value order:
// step, then timestamp, then value.
func newer(a, b tracking.Metric) bool {
	if a.Step != b.Step {
		return a.Step > b.Step
	}
	if a.Timestamp != b.Timestamp {
		return a.Timestamp > b.Timestamp
	}
	av, _ := metricValue(a)
	bv, _ := metricValue(b)
	return av > bv
}

func (s *Store) insertMetrics(ctx context.Context, tx *sql.Tx, runID string, expID int64, ms []tracking.Metric) error {
	if len(ms) == 0 {
		return nil
	}
	if err := s.insertMetricRows(ctx, tx, runID, ms); err != nil {
		return err
	}
	return s.upsertLatest(ctx, tx, runID, expID, ms)
}

// insertMetricRows adds every value to the history; one already logged
// (the same key, step, timestamp and value) is kept once, as in MLflow.
func (s *Store) insertMetricRows(ctx context.Context, tx *sql.Tx, runID string, ms []tracking.Metric) error {
	start := 0
	for _, n := range chunks(len(ms)) {
		chunk := ms[start : start+n]
		start += n
		args := make([]any, 0, 9*len(chunk))
		for _, m := range chunk {
			v, isNaN := metricValue(m)
			args = append(args, runID, m.Key, m.Step, m.Timestamp, v, isNaN, m.ModelID, m.DatasetName, m.DatasetDigest)
		}
		if _, err := s.exec(ctx, tx, insertMetricsSQL(n), args...); err != nil {
			return fmt.Errorf("insert metrics: %w", err)
		}
	}
	return nil
}

// upsertLatest moves each key's latest value forward to the batch's
// latest one, if that is newer.
func (s *Store) upsertLatest(ctx context.Context, tx *sql.Tx, runID string, expID int64, ms []tracking.Metric) error {
	latest := map[string]tracking.Metric{}
	for _, m := range ms {
		if cur, ok := latest[m.Key]; !ok || newer(m, cur) {
			latest[m.Key] = m
		}
	}
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	start := 0
	for _, n := range chunks(len(keys)) {
		chunk := keys[start : start+n]
		start += n
		args := make([]any, 0, 7*len(chunk))
		for _, k := range chunk {
			m := latest[k]
			v, isNaN := metricValue(m)
			args = append(args, runID, expID, k, m.Step, m.Timestamp, v, isNaN)
		}
		if _, err := s.exec(ctx, tx, upsertLatestSQL(n), args...); err != nil {
			return fmt.Errorf("update latest metrics: %w", err)
		}
	}
	return nil
}

// logParamsAndTags writes a batch's params and tags in tx and returns the
// run's experiment, which the metrics are written under.
func (s *Store) logParamsAndTags(ctx context.Context, tx *sql.Tx, runID string, b tracking.Batch) (int64, error) {
	expID, err := s.runExperiment(ctx, tx, runID)
	if err != nil {
		return 0, err
	}
	if err := s.insertParams(ctx, tx, runID, expID, b.Params); err != nil {
		return 0, err
	}
	return expID, s.upsertRunTags(ctx, tx, runID, expID, b.Tags)
}

// logBatchCopy is LogBatch on PostgreSQL: the metric values go into the
// history with COPY, which inserts each row once, where INSERT … ON
// CONFLICT DO NOTHING first probes the six-column primary key for a
// conflict and then inserts: 15 instead of 30 ms of PostgreSQL CPU for
// 1,000 values. COPY cannot skip a value already logged, so it runs under
// a savepoint; on a duplicate (a client retrying a batch, or a batch
// holding the same value twice) the savepoint is rolled back and the
// values go through the INSERT, which keeps MLflow's answer: the
// duplicate is ignored.
func (s *Store) logBatchCopy(ctx context.Context, runID string, b tracking.Batch) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("log-batch: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op once committed
	expID, err := s.logParamsAndTags(ctx, tx, runID, b)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT log_batch_copy"); err != nil {
		return fmt.Errorf("log-batch: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("log-batch: a PostgreSQL connection is %T, not pgx's", dc)
		}
		ms := b.Metrics
		_, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{"run_metrics"},
			[]string{"run_id", "key", "step", "timestamp", "value", "is_nan", "model_id", "dataset_name", "dataset_digest"},
			pgx.CopyFromSlice(len(ms), func(i int) ([]any, error) {
				m := ms[i]
				v, isNaN := metricValue(m)
				return []any{runID, m.Key, m.Step, m.Timestamp, v, int32(isNaN), m.ModelID, m.DatasetName, m.DatasetDigest}, nil
			}))
		return err
	})
	switch {
	case isUniqueViolation(err):
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT log_batch_copy"); err != nil {
			return fmt.Errorf("log-batch: %w", err)
		}
		if err := s.insertMetricRows(ctx, tx, runID, b.Metrics); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("insert metrics: %w", err)
	default:
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT log_batch_copy"); err != nil {
			return fmt.Errorf("log-batch: %w", err)
		}
	}
	if err := s.upsertLatest(ctx, tx, runID, expID, b.Metrics); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// LogInputs records dataset and model inputs, skipping ones already logged.
func (s *Store) LogInputs(ctx context.Context, runID string, ds []tracking.DatasetInput, modelIDs []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		pos, err := s.nextInputPosition(ctx, tx, runID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			ctxTag := ""
			for _, t := range d.Tags {
				if t.Key == "mlflow.data.context" {
					ctxTag = t.Value
				}
			}
			var n int
			if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM run_inputs WHERE run_id = ? AND kind = 'dataset' AND name = ? AND digest = ? AND context = ?`,
				runID, d.Dataset.Name, d.Dataset.Digest, ctxTag).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			tags := d.Tags
			if tags == nil {
				tags = []tracking.Tag{}
			}
			tj, _ := json.Marshal(tags)
			if _, err := s.exec(ctx, tx, `INSERT INTO run_inputs (run_id, position, kind, name, digest, source_type, source, dataset_schema, profile, context, tags)
				VALUES (?, ?, 'dataset', ?, ?, ?, ?, ?, ?, ?, ?)`, runID, pos, d.Dataset.Name, d.Dataset.Digest, d.Dataset.SourceType,
				d.Dataset.Source, d.Dataset.Schema, d.Dataset.Profile, ctxTag, string(tj)); err != nil {
				return fmt.Errorf("insert dataset input: %w", err)
			}
			pos++
		}
		for _, id := range modelIDs {
			if _, err := s.exec(ctx, tx, `INSERT INTO run_inputs (run_id, position, kind, model_id) VALUES (?, ?, 'model_input', ?)`, runID, pos, id); err != nil {
				return fmt.Errorf("insert model input: %w", err)
			}
			pos++
		}
		return nil
	})
}

func (s *Store) nextInputPosition(ctx context.Context, tx *sql.Tx, runID string) (int, error) {
	var pos int
	err := s.queryRow(ctx, tx, `SELECT COALESCE(MAX(position), -1) + 1 FROM run_inputs WHERE run_id = ?`, runID).Scan(&pos)
	return pos, err
}

// LogOutputs records the logged models a run produced.
func (s *Store) LogOutputs(ctx context.Context, runID string, outs []tracking.ModelOutput) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		pos, err := s.nextInputPosition(ctx, tx, runID)
		if err != nil {
			return err
		}
		for _, o := range outs {
			if _, err := s.exec(ctx, tx, `INSERT INTO run_inputs (run_id, position, kind, model_id, step) VALUES (?, ?, 'model_output', ?, ?)`,
				runID, pos, o.ModelID, o.Step); err != nil {
				return fmt.Errorf("insert model output: %w", err)
			}
			pos++
		}
		return nil
	})
}

// MetricHistory returns a page of one metric's values by step, timestamp.
func (s *Store) MetricHistory(ctx context.Context, runID, key string, maxResults int, token string) ([]tracking.Metric, string, error) {
	keys := []sortKey{{expr: "step", kind: 'i'}, {expr: "timestamp", kind: 'i'}, {expr: "value", kind: 'f'}, {expr: "is_nan", kind: 'i'}}
	q := `SELECT step, timestamp, value, is_nan FROM run_metrics WHERE run_id = ? AND key = ?`
	args := []any{runID, key}
	if token != "" {
		vals, err := decodeToken(token, keys)
		if err != nil {
			return nil, "", err
		}
		pred, pargs := afterSQL(keys, vals)
		q += " AND " + pred
		args = append(args, pargs...)
	}
	q += orderBySQL(keys) + " LIMIT ?"
	args = append(args, maxResults+1)
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, "", fmt.Errorf("metric history: %w", err)
	}
	defer rows.Close()
	out := []tracking.Metric{}
	for rows.Next() {
		m := tracking.Metric{Key: key, RunID: runID}
		var isNaN int64
		if err := rows.Scan(&m.Step, &m.Timestamp, &m.Value, &isNaN); err != nil {
			return nil, "", err
		}
		if isNaN == 1 {
			m.Value = math.NaN()
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > maxResults {
		out = out[:maxResults]
		last := out[maxResults-1]
		v, isNaN := metricValue(last)
		next = encodeToken([]any{last.Step, last.Timestamp, v, int64(isNaN)})
	}
	return out, next, nil
}

// MetricHistoryBulk returns a metric's values for several runs within
// [startStep, endStep], at most maxResults per run.
func (s *Store) MetricHistoryBulk(ctx context.Context, runIDs []string, key string, startStep, endStep *int64, maxResults int) ([]tracking.Metric, error) {
	var out []tracking.Metric
	for _, runID := range runIDs {
		q := `SELECT step, timestamp, value, is_nan FROM run_metrics WHERE run_id = ? AND key = ?`
		args := []any{runID, key}
		if startStep != nil {
			q += " AND step >= ?"
			args = append(args, *startStep)
		}
		if endStep != nil {
			q += " AND step <= ?"
			args = append(args, *endStep)
		}
		q += " ORDER BY step, timestamp LIMIT ?"
		args = append(args, maxResults)
		rows, err := s.query(ctx, nil, q, args...)
		if err != nil {
			return nil, fmt.Errorf("metric history: %w", err)
		}
		for rows.Next() {
			m := tracking.Metric{Key: key, RunID: runID}
			var isNaN int64
			if err := rows.Scan(&m.Step, &m.Timestamp, &m.Value, &isNaN); err != nil {
				rows.Close()
				return nil, err
			}
			if isNaN == 1 {
				m.Value = math.NaN()
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateRunStatus sets a run's status alone (tests and seeding).
func (s *Store) UpdateRunStatus(ctx context.Context, id string, status tracking.RunStatus) error {
	_, err := s.exec(ctx, nil, `UPDATE runs SET status = ? WHERE id = ?`, string(status), id)
	return err
}
