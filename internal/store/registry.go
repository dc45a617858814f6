package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/models"
	"github.com/mlportal/mlportal/internal/tracking"
)

var _ modelregistry.Repository = (*Store)(nil)

func modelNotFound(name string) error {
	return fault.New(fault.ErrNotFound, "Registered Model with name=%s not found", name)
}

func versionNotFound(name string, v int64) error {
	return fault.New(fault.ErrNotFound, "Model Version (name=%s, version=%d) not found", name, v)
}

// CreateRegisteredModel inserts a model and its tags.
func (s *Store) CreateRegisteredModel(ctx context.Context, m modelregistry.RegisteredModel) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO registered_models (name, team, description, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?)`,
			m.Name, m.Team, m.Description, m.CreationTime, m.LastUpdatedTime)
		if isUniqueViolation(err) {
			return fault.New(fault.ErrAlreadyExists, "registered model %q already exists", m.Name)
		}
		if err != nil {
			return fmt.Errorf("insert registered model: %w", err)
		}
		for _, t := range m.Tags {
			if err := s.setModelTag(ctx, tx, m.Name, t); err != nil {
				return err
			}
		}
		return s.recordChange(ctx, tx, models.ChangeModel, m.Name, 0, models.OpUpsert, m.CreationTime)
	})
}

func (s *Store) setModelTag(ctx context.Context, tx *sql.Tx, name string, t tracking.Tag) error {
	_, err := s.exec(ctx, tx, `INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)
		ON CONFLICT (name, key) DO UPDATE SET value = excluded.value`, name, t.Key, t.Value)
	if err != nil {
		return fmt.Errorf("set registered model tag: %w", err)
	}
	return nil
}

// GetRegisteredModel returns a model with tags, aliases and latest versions.
func (s *Store) GetRegisteredModel(ctx context.Context, name string) (modelregistry.RegisteredModel, error) {
	var m modelregistry.RegisteredModel
	err := s.queryRow(ctx, nil, `SELECT name, team, description, creation_time, last_update_time FROM registered_models WHERE name = ?`, name).
		Scan(&m.Name, &m.Team, &m.Description, &m.CreationTime, &m.LastUpdatedTime)
	if errors.Is(err, sql.ErrNoRows) {
		return m, modelNotFound(name)
	}
	if err != nil {
		return m, fmt.Errorf("get registered model: %w", err)
	}
	ms := []modelregistry.RegisteredModel{m}
	if err := s.loadModelChildren(ctx, ms); err != nil {
		return m, err
	}
	return ms[0], nil
}

// loadModelChildren fills tags, aliases and the latest version per stage
// of a page of models, one query per table.
func (s *Store) loadModelChildren(ctx context.Context, ms []modelregistry.RegisteredModel) error {
	if len(ms) == 0 {
		return nil
	}
	names := make([]any, len(ms))
	idx := make(map[string]int, len(ms))
	for i, m := range ms {
		names[i], idx[m.Name] = m.Name, i
	}
	in := placeholders(len(names))
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT name, key, value FROM registered_model_tags WHERE name IN (`+in+`) ORDER BY name, key`), names...)
	if err != nil {
		return fmt.Errorf("load model tags: %w", err)
	}
	for rows.Next() {
		var n string
		var t tracking.Tag
		if err := rows.Scan(&n, &t.Key, &t.Value); err != nil {
			rows.Close()
			return err
		}
		ms[idx[n]].Tags = append(ms[idx[n]].Tags, t)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT name, alias, version FROM registered_model_aliases WHERE name IN (`+in+`) ORDER BY name, alias`), names...)
	if err != nil {
		return fmt.Errorf("load model aliases: %w", err)
	}
	for rows.Next() {
		var n string
		var a modelregistry.Alias
		if err := rows.Scan(&n, &a.Alias, &a.Version); err != nil {
			rows.Close()
			return err
		}
		ms[idx[n]].Aliases = append(ms[idx[n]].Aliases, a)
	}
	rows.Close()
	latest, err := s.versionsWhere(ctx, `(v.name, v.version) IN (SELECT name, MAX(version) FROM model_versions WHERE name IN (`+in+`)
		GROUP BY name, current_stage) ORDER BY v.name, v.version`, names...)
	if err != nil {
		return err
	}
	for _, v := range latest {
		ms[idx[v.Name]].LatestVersions = append(ms[idx[v.Name]].LatestVersions, v)
	}
	return nil
}

const versionColumns = `v.name, v.version, v.creation_time, v.last_update_time, v.user_id, v.current_stage, v.description, v.source,
	v.storage_location, v.run_id, v.run_link, v.model_id, v.status, v.status_message, m.team`

func scanVersion(sc interface{ Scan(...any) error }, extra ...any) (modelregistry.ModelVersion, error) {
	var v modelregistry.ModelVersion
	err := sc.Scan(append([]any{&v.Name, &v.Version, &v.CreationTime, &v.LastUpdatedTime, &v.UserID, &v.CurrentStage, &v.Description,
		&v.Source, &v.StorageLocation, &v.RunID, &v.RunLink, &v.ModelID, &v.Status, &v.StatusMessage, &v.Team}, extra...)...)
	return v, err
}

// versionsWhere loads versions matching a predicate, with tags and aliases.
func (s *Store) versionsWhere(ctx context.Context, where string, args ...any) ([]modelregistry.ModelVersion, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+versionColumns+` FROM model_versions v JOIN registered_models m ON m.name = v.name WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("load model versions: %w", err)
	}
	var vs []modelregistry.ModelVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return vs, s.loadVersionChildren(ctx, vs)
}

func (s *Store) loadVersionChildren(ctx context.Context, vs []modelregistry.ModelVersion) error {
	if len(vs) == 0 {
		return nil
	}
	type key struct {
		name string
		v    int64
	}
	idx := make(map[key]int, len(vs))
	var args []any
	names := map[string]bool{}
	for i, v := range vs {
		idx[key{v.Name, v.Version}] = i
		if !names[v.Name] {
			names[v.Name] = true
			args = append(args, v.Name)
		}
	}
	in := placeholders(len(args))
	// Tags of exactly these versions, by (name, version) for a small page;
	// for a large one, the models' tags filtered here (one index range).
	byPairs := len(vs) <= 200
	query, qargs := `SELECT name, version, key, value FROM model_version_tags WHERE name IN (`+in+`) ORDER BY name, version, key`, args
	if byPairs {
		qargs = make([]any, 0, 2*len(vs))
		for _, v := range vs {
			qargs = append(qargs, v.Name, v.Version)
		}
		query = `SELECT name, version, key, value FROM model_version_tags WHERE (name, version) IN (` + rowsOf(2, len(vs)) + `) ORDER BY name, version, key`
	}
	tagRows, err := s.db.QueryContext(ctx, s.q(query), qargs...)
	if err != nil {
		return fmt.Errorf("load version tags: %w", err)
	}
	for tagRows.Next() {
		var k key
		var t tracking.Tag
		if err := tagRows.Scan(&k.name, &k.v, &t.Key, &t.Value); err != nil {
			tagRows.Close()
			return err
		}
		if i, ok := idx[k]; ok {
			vs[i].Tags = append(vs[i].Tags, t)
		}
	}
	tagRows.Close()
	if err := tagRows.Err(); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT name, version, alias FROM registered_model_aliases WHERE name IN (`+in+`) ORDER BY name, alias`), args...)
	if err != nil {
		return fmt.Errorf("load version aliases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k key
		var a string
		if err := rows.Scan(&k.name, &k.v, &a); err != nil {
			return err
		}
		if i, ok := idx[k]; ok {
			vs[i].Aliases = append(vs[i].Aliases, a)
		}
	}
	return rows.Err()
}

func (s *Store) touchModel(ctx context.Context, tx *sql.Tx, name string, now int64) error {
	res, err := s.exec(ctx, tx, `UPDATE registered_models SET last_update_time = ? WHERE name = ?`, now, name)
	if err != nil {
		return fmt.Errorf("update registered model: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return modelNotFound(name)
	}
	return nil
}

// RenameRegisteredModel renames a model; versions, tags and aliases follow
// by ON UPDATE CASCADE, history by an explicit update.
func (s *Store) RenameRegisteredModel(ctx context.Context, name, newName string, now int64) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE registered_models SET name = ?, last_update_time = ? WHERE name = ?`, newName, now, name)
		if isUniqueViolation(err) {
			return fault.New(fault.ErrAlreadyExists, "registered model %q already exists", newName)
		}
		if err != nil {
			return fmt.Errorf("rename registered model: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return modelNotFound(name)
		}
		if _, err = s.exec(ctx, tx, `UPDATE registry_events SET model = ? WHERE model = ?`, newName, name); err != nil {
			return err
		}
		if err := s.recordChange(ctx, tx, models.ChangeModel, name, 0, models.OpDelete, now); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModel, newName, 0, models.OpUpsert, now)
	})
}

// UpdateRegisteredModel sets the description.
func (s *Store) UpdateRegisteredModel(ctx context.Context, name, description string, now int64) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE registered_models SET description = ?, last_update_time = ? WHERE name = ?`, description, now, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return modelNotFound(name)
		}
		return s.recordChange(ctx, tx, models.ChangeModel, name, 0, models.OpUpsert, now)
	})
}

// DeleteRegisteredModel deletes a model, its versions, tags and aliases.
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `DELETE FROM registered_models WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete registered model: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return modelNotFound(name)
		}
		return s.recordChange(ctx, tx, models.ChangeModel, name, 0, models.OpDelete, 0)
	})
}

// SetRegisteredModelTag sets a model tag.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name string, t tracking.Tag, now int64) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		if err := s.touchModel(ctx, tx, name, now); err != nil {
			return err
		}
		if err := s.setModelTag(ctx, tx, name, t); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModel, name, 0, models.OpUpsert, now)
	})
}

// DeleteRegisteredModelTag removes a model tag.
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `DELETE FROM registered_model_tags WHERE name = ? AND key = ?`, name, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.recordChange(ctx, tx, models.ChangeModel, name, 0, models.OpUpsert, 0)
	})
}

// CreateModelVersion assigns the model's next version number and records
// ev for it.
func (s *Store) CreateModelVersion(ctx context.Context, v modelregistry.ModelVersion, ev modelregistry.Event) (modelregistry.ModelVersion, error) {
	err := s.inChangeTx(ctx, func(tx *sql.Tx) error {
		err := s.queryRow(ctx, tx, `UPDATE registered_models SET next_version = next_version + 1, last_update_time = ? WHERE name = ? RETURNING next_version - 1`,
			v.CreationTime, v.Name).Scan(&v.Version)
		if errors.Is(err, sql.ErrNoRows) {
			return modelNotFound(v.Name)
		}
		if err != nil {
			return fmt.Errorf("allocate version: %w", err)
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO model_versions (name, version, creation_time, last_update_time, user_id, current_stage, description,
			source, storage_location, run_id, run_link, model_id, status, status_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.Name, v.Version, v.CreationTime, v.LastUpdatedTime, v.UserID, v.CurrentStage, v.Description, v.Source, v.StorageLocation,
			v.RunID, v.RunLink, v.ModelID, v.Status, v.StatusMessage); err != nil {
			return fmt.Errorf("insert model version: %w", err)
		}
		for _, t := range v.Tags {
			if err := s.setVersionTag(ctx, tx, v.Name, v.Version, t); err != nil {
				return err
			}
		}
		ev.Version = v.Version
		if err := s.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModelVersion, v.Name, v.Version, models.OpUpsert, v.CreationTime)
	})
	return v, err
}

func (s *Store) setVersionTag(ctx context.Context, tx *sql.Tx, name string, version int64, t tracking.Tag) error {
	_, err := s.exec(ctx, tx, `INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value`, name, version, t.Key, t.Value)
	if err != nil {
		return fmt.Errorf("set model version tag: %w", err)
	}
	return nil
}

// GetModelVersion returns one version.
func (s *Store) GetModelVersion(ctx context.Context, name string, version int64) (modelregistry.ModelVersion, error) {
	vs, err := s.versionsWhere(ctx, `v.name = ? AND v.version = ?`, name, version)
	if err != nil {
		return modelregistry.ModelVersion{}, err
	}
	if len(vs) == 0 {
		return modelregistry.ModelVersion{}, versionNotFound(name, version)
	}
	return vs[0], nil
}

func (s *Store) versionChanged(res sql.Result, err error, name string, version int64) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return versionNotFound(name, version)
	}
	return nil
}

// UpdateModelVersion sets the description.
func (s *Store) UpdateModelVersion(ctx context.Context, name string, version int64, description string, now int64) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE model_versions SET description = ?, last_update_time = ? WHERE name = ? AND version = ?`, description, now, name, version)
		if err := s.versionChanged(res, err, name, version); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModelVersion, name, version, models.OpUpsert, now)
	})
}

// DeleteModelVersion deletes a version, its tags and the aliases on it,
// and records ev.
func (s *Store) DeleteModelVersion(ctx context.Context, name string, version int64, ev modelregistry.Event) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `DELETE FROM registered_model_aliases WHERE name = ? AND version = ?`, name, version); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `DELETE FROM model_versions WHERE name = ? AND version = ?`, name, version)
		if err := s.versionChanged(res, err, name, version); err != nil {
			return err
		}
		if err := s.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModelVersion, name, version, models.OpDelete, ev.Time)
	})
}

func (s *Store) recordEvent(ctx context.Context, tx *sql.Tx, ev modelregistry.Event) error {
	id, err := s.nextSequence(ctx, tx, "registry_event")
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, tx, `INSERT INTO registry_events (id, model, kind, alias, version, from_value, to_value, actor, time, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, ev.Model, string(ev.Kind), ev.Alias, ev.Version, ev.From, ev.To, ev.Actor, ev.Time, ev.Reason)
	if err != nil {
		return fmt.Errorf("record registry event: %w", err)
	}
	return nil
}

// TransitionStage moves a version to a stage, archiving the others in it
// when asked, and records each move.
func (s *Store) TransitionStage(ctx context.Context, name string, version int64, stage string, archiveExisting bool, ev modelregistry.Event) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		var from string
		err := s.queryRow(ctx, tx, `SELECT current_stage FROM model_versions WHERE name = ? AND version = ?`, name, version).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return versionNotFound(name, version)
		}
		if err != nil {
			return err
		}
		if archiveExisting {
			rows, err := s.query(ctx, tx, `SELECT version FROM model_versions WHERE name = ? AND current_stage = ? AND version <> ?`, name, stage, version)
			if err != nil {
				return err
			}
			var others []int64
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return err
				}
				others = append(others, v)
			}
			rows.Close()
			for _, v := range others {
				if _, err := s.exec(ctx, tx, `UPDATE model_versions SET current_stage = ?, last_update_time = ? WHERE name = ? AND version = ?`,
					modelregistry.StageArchived, ev.Time, name, v); err != nil {
					return err
				}
				arch := ev
				arch.Version, arch.From, arch.To = v, stage, modelregistry.StageArchived
				arch.Reason = fmt.Sprintf("archived when version %d moved to %s", version, stage)
				if err := s.recordEvent(ctx, tx, arch); err != nil {
					return err
				}
				if err := s.recordChange(ctx, tx, models.ChangeModelVersion, name, v, models.OpUpsert, ev.Time); err != nil {
					return err
				}
			}
		}
		if _, err := s.exec(ctx, tx, `UPDATE model_versions SET current_stage = ?, last_update_time = ? WHERE name = ? AND version = ?`,
			stage, ev.Time, name, version); err != nil {
			return err
		}
		if err := s.touchModel(ctx, tx, name, ev.Time); err != nil {
			return err
		}
		ev.From = from
		if err := s.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModelVersion, name, version, models.OpUpsert, ev.Time)
	})
}

// LatestVersions returns the newest version of each stage (of the given
// stages, or all).
func (s *Store) LatestVersions(ctx context.Context, name string, stages []string) ([]modelregistry.ModelVersion, error) {
	q := `(v.name, v.version) IN (SELECT name, MAX(version) FROM model_versions WHERE name = ?`
	args := []any{name}
	if len(stages) > 0 {
		q += ` AND current_stage IN (` + placeholders(len(stages)) + `)`
		for _, st := range stages {
			args = append(args, st)
		}
	}
	q += ` GROUP BY name, current_stage) ORDER BY v.version`
	return s.versionsWhere(ctx, q, args...)
}

// SetModelVersionTag sets a version tag.
func (s *Store) SetModelVersionTag(ctx context.Context, name string, version int64, t tracking.Tag, now int64) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE model_versions SET last_update_time = ? WHERE name = ? AND version = ?`, now, name, version)
		if err := s.versionChanged(res, err, name, version); err != nil {
			return err
		}
		if err := s.setVersionTag(ctx, tx, name, version, t); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModelVersion, name, version, models.OpUpsert, now)
	})
}

// DeleteModelVersionTag removes a version tag.
func (s *Store) DeleteModelVersionTag(ctx context.Context, name string, version int64, key string) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?`, name, version, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.recordChange(ctx, tx, models.ChangeModelVersion, name, version, models.OpUpsert, 0)
	})
}

// SetAlias points an alias at a version and records the move.
func (s *Store) SetAlias(ctx context.Context, name, alias string, version int64, ev modelregistry.Event) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		var prev int64
		err := s.queryRow(ctx, tx, `SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias).Scan(&prev)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			ev.From = strconv.FormatInt(prev, 10)
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)
			ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version`, name, alias, version); err != nil {
			return fmt.Errorf("set alias: %w", err)
		}
		if err := s.touchModel(ctx, tx, name, ev.Time); err != nil {
			return err
		}
		if err := s.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModel, name, 0, models.OpUpsert, ev.Time)
	})
}

// DeleteAlias removes an alias and records it; a missing alias is not an
// error, as in MLflow.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string, ev modelregistry.Event) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		var prev int64
		err := s.queryRow(ctx, tx, `SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias); err != nil {
			return err
		}
		ev.From = strconv.FormatInt(prev, 10)
		if err := s.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModel, name, 0, models.OpUpsert, ev.Time)
	})
}

// GetVersionByAlias resolves an alias.
func (s *Store) GetVersionByAlias(ctx context.Context, name, alias string) (modelregistry.ModelVersion, error) {
	var v int64
	err := s.queryRow(ctx, nil, `SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.GetRegisteredModel(ctx, name); err != nil {
			return modelregistry.ModelVersion{}, err
		}
		return modelregistry.ModelVersion{}, fault.New(fault.ErrNotFound, "Registered model alias %s not found.", alias)
	}
	if err != nil {
		return modelregistry.ModelVersion{}, err
	}
	return s.GetModelVersion(ctx, name, v)
}

// History returns a model's events (stages, aliases, versions, approvals)
// after afterID.
func (s *Store) History(ctx context.Context, name string, afterID int64, limit int) ([]modelregistry.Event, error) {
	rows, err := s.query(ctx, nil, `SELECT id, model, kind, alias, version, from_value, to_value, actor, time, reason FROM registry_events
		WHERE model = ? AND id > ? ORDER BY id LIMIT ?`, name, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("registry history: %w", err)
	}
	defer rows.Close()
	out := []modelregistry.Event{}
	for rows.Next() {
		var e modelregistry.Event
		var kind string
		if err := rows.Scan(&e.ID, &e.Model, &kind, &e.Alias, &e.Version, &e.From, &e.To, &e.Actor, &e.Time, &e.Reason); err != nil {
			return nil, err
		}
		e.Kind = modelregistry.EventKind(kind)
		out = append(out, e)
	}
	return out, rows.Err()
}
