package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/project"
)

var _ project.Repository = (*Store)(nil)

const projectColumns = `id, team, name, description, template, template_version, overrides, scm, repo_url, namespace, entity_ref,
	status, steps, created_by, created_at, updated_at, version, quota, web_url, catalog_info_url`

// CreateProject inserts a project; a taken team+name is fault.ErrAlreadyExists.
func (s *Store) CreateProject(ctx context.Context, p project.Project) error {
	overrides, steps, quota, err := projectJSON(p)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, nil, `INSERT INTO projects (`+projectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Team, p.Name, p.Description, p.Template, p.TemplateVersion, overrides, p.SCM, p.RepoURL, p.Namespace, p.EntityRef,
		string(p.Status), steps, p.CreatedBy, micros(p.CreatedAt), micros(p.UpdatedAt), p.Version, quota, p.WebURL, p.CatalogInfoURL)
	if isUniqueViolation(err) {
		return fault.New(fault.ErrAlreadyExists, "team %q already has a project named %q", p.Team, p.Name)
	}
	if err != nil {
		return fmt.Errorf("insert project: %w", err)
	}
	return nil
}

func projectJSON(p project.Project) (overrides, steps, quota string, err error) {
	o, err := json.Marshal(p.Overrides)
	if err != nil {
		return "", "", "", fmt.Errorf("encode overrides: %w", err)
	}
	st := p.Steps
	if st == nil {
		st = []project.Step{}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", "", "", fmt.Errorf("encode steps: %w", err)
	}
	q, err := json.Marshal(p.Quota)
	if err != nil {
		return "", "", "", fmt.Errorf("encode quota: %w", err)
	}
	return string(o), string(b), string(q), nil
}

func scanProject(sc interface{ Scan(...any) error }) (project.Project, error) {
	var p project.Project
	var overrides, steps, status, quota string
	var created, updated int64
	err := sc.Scan(&p.ID, &p.Team, &p.Name, &p.Description, &p.Template, &p.TemplateVersion, &overrides, &p.SCM, &p.RepoURL,
		&p.Namespace, &p.EntityRef, &status, &steps, &p.CreatedBy, &created, &updated, &p.Version, &quota, &p.WebURL, &p.CatalogInfoURL)
	if err != nil {
		return p, err
	}
	p.Status, p.CreatedAt, p.UpdatedAt = project.Status(status), fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(overrides), &p.Overrides); err != nil {
		return p, fmt.Errorf("decode overrides of project %s: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(steps), &p.Steps); err != nil {
		return p, fmt.Errorf("decode steps of project %s: %w", p.ID, err)
	}
	if quota != "" {
		if err := json.Unmarshal([]byte(quota), &p.Quota); err != nil {
			return p, fmt.Errorf("decode quota of project %s: %w", p.ID, err)
		}
	}
	for i := range p.Steps { // schema v2 kept the quota on the namespace step
		if q := p.Steps[i].Quota; q != nil {
			if quota == "" {
				p.Quota = *q
			}
			p.Steps[i].Quota = nil
		}
	}
	return p, nil
}

// GetProject returns one project by id.
func (s *Store) GetProject(ctx context.Context, id string) (project.Project, error) {
	p, err := scanProject(s.queryRow(ctx, nil, `SELECT `+projectColumns+` FROM projects WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return project.Project{}, fault.NotFound("project", id)
	}
	if err != nil {
		return project.Project{}, fmt.Errorf("get project: %w", err)
	}
	return p, nil
}

// GetProjectByName returns a team's project by name.
func (s *Store) GetProjectByName(ctx context.Context, team, name string) (project.Project, error) {
	p, err := scanProject(s.queryRow(ctx, nil, `SELECT `+projectColumns+` FROM projects WHERE team = ? AND name = ?`, team, name))
	if errors.Is(err, sql.ErrNoRows) {
		return project.Project{}, fault.NotFound("project", team+"/"+name)
	}
	if err != nil {
		return project.Project{}, fmt.Errorf("get project: %w", err)
	}
	return p, nil
}

// ListProjects returns up to limit projects with ids after `after`, by id,
// of one team ("" = all teams).
func (s *Store) ListProjects(ctx context.Context, team, after string, limit int) ([]project.Project, error) {
	if team == "" {
		return s.listProjects(ctx, `SELECT `+projectColumns+` FROM projects WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	}
	return s.listProjects(ctx, `SELECT `+projectColumns+` FROM projects WHERE team = ? AND id > ? ORDER BY id LIMIT ?`, team, after, limit)
}

// ListUnfinishedProjects returns every project whose saga is pending,
// running or deleting.
func (s *Store) ListUnfinishedProjects(ctx context.Context) ([]project.Project, error) {
	return s.listProjects(ctx, `SELECT `+projectColumns+` FROM projects WHERE status IN (?, ?, ?) ORDER BY id`,
		string(project.StatusPending), string(project.StatusRunning), string(project.StatusDeleting))
}

func (s *Store) listProjects(ctx context.Context, q string, args ...any) ([]project.Project, error) {
	rows, err := s.query(ctx, nil, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	ps := []project.Project{}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("scan project: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return ps, nil
}

// UpdateProject replaces a project's mutable fields if its version is still
// ifVersion.
func (s *Store) UpdateProject(ctx context.Context, p project.Project, ifVersion int64) error {
	overrides, steps, quota, err := projectJSON(p)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, nil, `UPDATE projects SET description = ?, template = ?, template_version = ?, overrides = ?, repo_url = ?,
		namespace = ?, entity_ref = ?, status = ?, steps = ?, updated_at = ?, version = ?, quota = ?, web_url = ?, catalog_info_url = ?
		WHERE id = ? AND version = ?`,
		p.Description, p.Template, p.TemplateVersion, overrides, p.RepoURL, p.Namespace, p.EntityRef, string(p.Status), steps,
		micros(p.UpdatedAt), p.Version, quota, p.WebURL, p.CatalogInfoURL, p.ID, ifVersion)
	if err != nil {
		return fmt.Errorf("update project: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetProject(ctx, p.ID); err != nil {
			return err
		}
		return fault.New(fault.ErrPreconditionFailed, "project %s changed since it was read", p.ID)
	}
	return nil
}

// DeleteProject removes a project's record.
func (s *Store) DeleteProject(ctx context.Context, id string) error {
	res, err := s.exec(ctx, nil, `DELETE FROM projects WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete project: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("project", id)
	}
	return nil
}

// LeaseProject gives owner the project's saga until `until` unless another
// owner's lease is still valid at now; it reports whether owner holds it.
// One conditional UPDATE, so two replicas cannot both win.
func (s *Store) LeaseProject(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	res, err := s.exec(ctx, nil, `UPDATE projects SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = ? OR lease_owner = '' OR lease_until < ?)`, owner, micros(until), id, owner, micros(now))
	if err != nil {
		return false, fmt.Errorf("lease project: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseProject ends owner's lease on the project.
func (s *Store) ReleaseProject(ctx context.Context, id, owner string) error {
	if _, err := s.exec(ctx, nil, `UPDATE projects SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`, id, owner); err != nil {
		return fmt.Errorf("release project: %w", err)
	}
	return nil
}
