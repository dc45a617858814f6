package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/models"
)

var (
	_ models.Registry  = (*Store)(nil)
	_ models.Approvals = (*Store)(nil)
)

// ListModels returns up to limit registered models after the name `after`,
// by name, with their tags, aliases and latest versions. The project
// filter matches the model's mlportal.project tag or, for a model without
// one, the tag on its newest version's run.
func (s *Store) ListModels(ctx context.Context, f models.Filter, after string, limit int) ([]modelregistry.RegisteredModel, error) {
	where := []string{"m.name > ?"}
	args := []any{after}
	if f.Team != "" {
		where = append(where, "m.team = ?")
		args = append(args, f.Team)
	}
	if f.Query != "" {
		where = append(where, `LOWER(m.name) LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	if f.Project != "" {
		where = append(where, `(EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = m.name AND t.key = 'mlportal.project' AND t.value = ?)
			OR (NOT EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = m.name AND t.key = 'mlportal.project')
			AND EXISTS (SELECT 1 FROM model_versions v JOIN run_tags rt ON rt.run_id = v.run_id AND rt.key = 'mlportal.project'
				WHERE v.name = m.name AND rt.value = ? AND v.version = (SELECT MAX(version) FROM model_versions WHERE name = m.name))))`)
		args = append(args, f.Project, f.Project)
	}
	args = append(args, limit)
	rows, err := s.query(ctx, nil, `SELECT m.name, m.team, m.description, m.creation_time, m.last_update_time FROM registered_models m
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.name LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list registered models: %w", err)
	}
	var ms []modelregistry.RegisteredModel
	for rows.Next() {
		var m modelregistry.RegisteredModel
		if err := rows.Scan(&m.Name, &m.Team, &m.Description, &m.CreationTime, &m.LastUpdatedTime); err != nil {
			rows.Close()
			return nil, err
		}
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ms, s.loadListing(ctx, ms)
}

// ListModelVersions returns up to limit versions of a model below
// `before` (0: all), newest first, with tags and aliases.
func (s *Store) ListModelVersions(ctx context.Context, name string, before int64, limit int) ([]modelregistry.ModelVersion, error) {
	if before <= 0 {
		return s.versionsWhere(ctx, `v.name = ? ORDER BY v.version DESC LIMIT ?`, name, limit)
	}
	return s.versionsWhere(ctx, `v.name = ? AND v.version < ? ORDER BY v.version DESC LIMIT ?`, name, before, limit)
}

// Approvals returns the approvals recorded for the versions.
func (s *Store) Approvals(ctx context.Context, keys []models.VersionKey) (map[models.VersionKey]models.Approval, error) {
	out := make(map[models.VersionKey]models.Approval)
	err := s.inVersionKeys("", keys, func(pred string, args []any) error {
		return s.eachRow(ctx, "approvals", `SELECT name, version, status, actor, time, comment FROM model_version_approvals WHERE `+pred, args,
			func(rows *sql.Rows) error {
				var k models.VersionKey
				var a models.Approval
				var at int64
				if err := rows.Scan(&k.Name, &k.Version, &a.Status, &a.By, &at, &a.Comment); err != nil {
					return err
				}
				a.At = fromMillis(at)
				out[k] = a
				return nil
			})
	})
	return out, err
}

// SetApproval records a version's approval and the event in its model's
// history (From: the previous status).
func (s *Store) SetApproval(ctx context.Context, key models.VersionKey, a models.Approval, ev modelregistry.Event) error {
	return s.inChangeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM model_versions WHERE name = ? AND version = ?`, key.Name, key.Version).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return versionNotFound(key.Name, key.Version)
		}
		prev := models.ApprovalPending
		err := s.queryRow(ctx, tx, `SELECT status FROM model_version_approvals WHERE name = ? AND version = ?`, key.Name, key.Version).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO model_version_approvals (name, version, status, actor, time, comment) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (name, version) DO UPDATE SET status = excluded.status, actor = excluded.actor, time = excluded.time, comment = excluded.comment`,
			key.Name, key.Version, a.Status, a.By, a.At.UnixMilli(), a.Comment); err != nil {
			return fmt.Errorf("set approval: %w", err)
		}
		ev.From = prev
		if err := s.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, models.ChangeModelVersion, key.Name, key.Version, models.OpUpsert, ev.Time)
	})
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
