package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tracking"
)

// CreateLoggedModel inserts a logged model with its params and tags.
func (s *Store) CreateLoggedModel(ctx context.Context, m tracking.LoggedModel) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO logged_models (id, experiment_id, name, artifact_uri, status, status_message, model_type,
			source_run_id, creation_time, last_update_time, lifecycle_stage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, mustInt(m.ExperimentID), m.Name, m.ArtifactURI, string(m.Status), m.StatusMessage, m.ModelType, m.SourceRunID,
			m.CreationTime, m.LastUpdateTime, m.LifecycleStage); err != nil {
			return fmt.Errorf("insert logged model: %w", err)
		}
		for _, p := range m.Params {
			if _, err := s.exec(ctx, tx, `INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`, m.ID, p.Key, p.Value); err != nil {
				return fmt.Errorf("insert logged model param: %w", err)
			}
		}
		return s.upsertModelTags(ctx, tx, m.ID, m.Tags)
	})
}

func (s *Store) upsertModelTags(ctx context.Context, tx *sql.Tx, id string, tags []tracking.Tag) error {
	for _, t := range tags {
		if _, err := s.exec(ctx, tx, `INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
			return fmt.Errorf("set logged model tag: %w", err)
		}
	}
	return nil
}

const loggedModelColumns = `m.id, m.experiment_id, m.name, m.artifact_uri, m.status, m.status_message, m.model_type, m.source_run_id,
	m.creation_time, m.last_update_time, m.lifecycle_stage, e.team`

func scanLoggedModel(sc interface{ Scan(...any) error }, extra ...any) (tracking.LoggedModel, error) {
	var m tracking.LoggedModel
	var exp int64
	var status string
	err := sc.Scan(append([]any{&m.ID, &exp, &m.Name, &m.ArtifactURI, &status, &m.StatusMessage, &m.ModelType, &m.SourceRunID,
		&m.CreationTime, &m.LastUpdateTime, &m.LifecycleStage, &m.Team}, extra...)...)
	m.ExperimentID, m.Status = strconv.FormatInt(exp, 10), tracking.LoggedModelStatus(status)
	return m, err
}

// GetLoggedModel returns a logged model that is not deleted.
func (s *Store) GetLoggedModel(ctx context.Context, id string) (tracking.LoggedModel, error) {
	m, err := scanLoggedModel(s.queryRow(ctx, nil, `SELECT `+loggedModelColumns+` FROM logged_models m JOIN experiments e ON e.id = m.experiment_id
		WHERE m.id = ? AND m.lifecycle_stage = 'active'`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fault.New(fault.ErrNotFound, "Logged model with ID '%s' not found.", id)
	}
	if err != nil {
		return m, fmt.Errorf("get logged model: %w", err)
	}
	ms := []tracking.LoggedModel{m}
	if err := s.loadModelData(ctx, ms); err != nil {
		return m, err
	}
	return ms[0], nil
}

// loadModelData fills tags, params and metrics of a page of logged models.
func (s *Store) loadModelData(ctx context.Context, ms []tracking.LoggedModel) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]any, len(ms))
	idx := make(map[string]int, len(ms))
	for i, m := range ms {
		ids[i], idx[m.ID] = m.ID, i
	}
	in := placeholders(len(ids))
	for _, table := range []string{"logged_model_tags", "logged_model_params"} {
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT model_id, key, value FROM `+table+` WHERE model_id IN (`+in+`) ORDER BY model_id, key`), ids...)
		if err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
		for rows.Next() {
			var id, k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return err
			}
			if table == "logged_model_tags" {
				ms[idx[id]].Tags = append(ms[idx[id]].Tags, tracking.Tag{Key: k, Value: v})
			} else {
				ms[idx[id]].Params = append(ms[idx[id]].Params, tracking.Param{Key: k, Value: v})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT model_id, run_id, key, value, is_nan, timestamp, step, dataset_name, dataset_digest
		FROM run_metrics WHERE model_id IN (`+in+`) ORDER BY model_id, key, step, timestamp`), ids...)
	if err != nil {
		return fmt.Errorf("load logged model metrics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var m tracking.Metric
		var isNaN int
		if err := rows.Scan(&id, &m.RunID, &m.Key, &m.Value, &isNaN, &m.Timestamp, &m.Step, &m.DatasetName, &m.DatasetDigest); err != nil {
			return err
		}
		if isNaN == 1 {
			m.Value = math.NaN()
		}
		m.ModelID = id
		ms[idx[id]].Metrics = append(ms[idx[id]].Metrics, m)
	}
	return rows.Err()
}

// FinalizeLoggedModel sets a logged model's status.
func (s *Store) FinalizeLoggedModel(ctx context.Context, id string, status tracking.LoggedModelStatus, now int64) error {
	_, err := s.exec(ctx, nil, `UPDATE logged_models SET status = ?, last_update_time = ? WHERE id = ?`, string(status), now, id)
	return err
}

// SetLoggedModelTags sets tags on a logged model.
func (s *Store) SetLoggedModelTags(ctx context.Context, id string, tags []tracking.Tag, now int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `UPDATE logged_models SET last_update_time = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		return s.upsertModelTags(ctx, tx, id, tags)
	})
}

// DeleteLoggedModelTag removes a tag from a logged model.
func (s *Store) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	res, err := s.exec(ctx, nil, `DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?`, id, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.ErrNotFound, "No tag with key '%s' found for logged model '%s'.", key, id)
	}
	return nil
}

// DeleteLoggedModel marks a logged model deleted.
func (s *Store) DeleteLoggedModel(ctx context.Context, id string, now int64) error {
	_, err := s.exec(ctx, nil, `UPDATE logged_models SET lifecycle_stage = 'deleted', last_update_time = ? WHERE id = ?`, now, id)
	return err
}

var loggedModelAttributeColumns = map[string]string{"name": "m.name", "model_id": "m.id", "status": "m.status",
	"source_run_id": "m.source_run_id", "model_type": "m.model_type", "creation_timestamp": "m.creation_time",
	"creation_time": "m.creation_time", "last_updated_timestamp": "m.last_update_time"}

// SearchLoggedModels returns a page of active logged models, newest first
// unless ordered otherwise.
func (s *Store) SearchLoggedModels(ctx context.Context, q tracking.LoggedModelQuery) ([]tracking.LoggedModel, string, error) {
	var w cond
	w.add("m.lifecycle_stage = 'active'")
	if len(q.ExperimentIDs) > 0 {
		exps := make([]any, len(q.ExperimentIDs))
		for i, id := range q.ExperimentIDs {
			exps[i] = mustInt(id)
		}
		w.add("m.experiment_id IN ("+placeholders(len(exps))+")", exps...)
	}
	for _, c := range q.Filter {
		switch c.Entity {
		case tracking.EntityTag:
			pred, args := s.keyedFilter("m.id", "logged_model_tags", "model_id", c)
			w.add(pred, args...)
		case tracking.EntityParam:
			pred, args := s.keyedFilter("m.id", "logged_model_params", "model_id", c)
			w.add(pred, args...)
		case tracking.EntityMetric:
			w.add("m.id IN (SELECT model_id FROM run_metrics WHERE key = ? AND is_nan = 0 AND value "+c.Op+" ?)", c.Key, c.Number)
		case tracking.EntityAttribute:
			col := loggedModelAttributeColumns[c.Key]
			if strings.HasSuffix(col, "_time") {
				w.add(col+" "+c.Op+" ?", int64(c.Number))
				continue
			}
			pred, args := s.textOp(col, c.Op, c.Value, c.Values)
			w.add(pred, args...)
		}
	}
	var keys []sortKey
	for _, o := range q.OrderBy {
		col, ok := loggedModelAttributeColumns[o.Key]
		if !ok || o.Entity != tracking.EntityAttribute {
			continue
		}
		kind := byte('s')
		if strings.HasSuffix(col, "_time") {
			kind = 'i'
		}
		keys = append(keys, sortKey{expr: col, desc: o.Desc, kind: kind})
	}
	if len(keys) == 0 {
		keys = append(keys, sortKey{expr: "m.creation_time", desc: true, kind: 'i'})
	}
	keys = append(keys, sortKey{expr: "m.id", kind: 's'})
	if q.PageToken != "" {
		vals, err := decodeToken(q.PageToken, keys)
		if err != nil {
			return nil, "", err
		}
		pred, args := afterSQL(keys, vals)
		w.add(pred, args...)
	}
	cols := make([]string, len(keys))
	for i, k := range keys {
		cols[i] = k.expr
	}
	query := "SELECT " + loggedModelColumns + ", " + strings.Join(cols, ", ") + " FROM logged_models m JOIN experiments e ON e.id = m.experiment_id" +
		w.where() + orderBySQL(keys) + " LIMIT ?"
	rows, err := s.db.QueryContext(ctx, s.q(query), append(w.args, q.MaxResults+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("search logged models: %w", err)
	}
	defer rows.Close()
	var out []tracking.LoggedModel
	var rowVals [][]any
	for rows.Next() {
		dst, vals := scanKeys(keys)
		m, err := scanLoggedModel(rows, dst...)
		if err != nil {
			return nil, "", fmt.Errorf("scan logged model: %w", err)
		}
		out = append(out, m)
		rowVals = append(rowVals, vals())
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	rows.Close()
	next := ""
	if len(out) > q.MaxResults {
		out = out[:q.MaxResults]
		next = encodeToken(rowVals[q.MaxResults-1])
	}
	return out, next, s.loadModelData(ctx, out)
}
