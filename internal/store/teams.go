package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/team"
)

var _ team.Repository = (*Store)(nil)

// CreateTeam inserts a team with its members and quotas in one transaction.
func (s *Store) CreateTeam(ctx context.Context, t team.Team) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO teams (name, display_name, description, backstage_group, cost_center, fair_share_weight, created_at, updated_at, created_by, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.Name, t.DisplayName, t.Description, t.BackstageGroup, t.CostCenter, teamWeight(t), micros(t.CreatedAt), micros(t.UpdatedAt), t.CreatedBy, t.Version)
		if isUniqueViolation(err) {
			return fault.New(fault.ErrAlreadyExists, "team %q already exists; pick another name or update it", t.Name)
		}
		if err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		return s.insertTeamChildren(ctx, tx, t)
	})
}

// replaceTeamChildren rewrites a team's members and quotas.
func (s *Store) replaceTeamChildren(ctx context.Context, tx *sql.Tx, t team.Team) error {
	if _, err := s.exec(ctx, tx, `DELETE FROM team_members WHERE team = ?`, t.Name); err != nil {
		return fmt.Errorf("clear members: %w", err)
	}
	if _, err := s.exec(ctx, tx, `DELETE FROM team_gpu_quotas WHERE team = ?`, t.Name); err != nil {
		return fmt.Errorf("clear quotas: %w", err)
	}
	return s.insertTeamChildren(ctx, tx, t)
}

func (s *Store) insertTeamChildren(ctx context.Context, tx *sql.Tx, t team.Team) error {
	for i, m := range t.Members {
		if _, err := s.exec(ctx, tx, `INSERT INTO team_members (team, position, subject, role) VALUES (?, ?, ?, ?)`, t.Name, i, m.Subject, string(m.Role)); err != nil {
			return fmt.Errorf("insert member: %w", err)
		}
	}
	for i, q := range t.GPUQuota {
		if _, err := s.exec(ctx, tx, `INSERT INTO team_gpu_quotas (team, position, gpu_type, nominal, borrowing_limit) VALUES (?, ?, ?, ?, ?)`,
			t.Name, i, q.GPUType, q.Nominal, q.BorrowingLimit); err != nil {
			return fmt.Errorf("insert gpu quota: %w", err)
		}
	}
	return nil
}

// teamWeight is the fair-share weight to store: a Team built without one
// (zero) has the default.
func teamWeight(t team.Team) float64 {
	if t.FairShareWeight == 0 {
		return team.DefaultWeight
	}
	return t.FairShareWeight
}

const teamColumns = `name, display_name, description, backstage_group, cost_center, fair_share_weight, created_at, updated_at, created_by, version`

func scanTeam(sc interface{ Scan(...any) error }) (team.Team, error) {
	var t team.Team
	var created, updated int64
	err := sc.Scan(&t.Name, &t.DisplayName, &t.Description, &t.BackstageGroup, &t.CostCenter, &t.FairShareWeight, &created, &updated, &t.CreatedBy, &t.Version)
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	t.Members, t.GPUQuota = []identity.Member{}, []team.GPUQuota{}
	return t, err
}

// GetTeam returns one team.
func (s *Store) GetTeam(ctx context.Context, name string) (team.Team, error) {
	t, err := scanTeam(s.queryRow(ctx, nil, `SELECT `+teamColumns+` FROM teams WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return team.Team{}, fault.NotFound("team", name)
	}
	if err != nil {
		return team.Team{}, fmt.Errorf("get team: %w", err)
	}
	ts := []team.Team{t}
	if err := s.loadTeamChildren(ctx, ts, []string{name}); err != nil {
		return team.Team{}, err
	}
	return ts[0], nil
}

// ListTeams returns up to limit teams with names after `after`, by name.
func (s *Store) ListTeams(ctx context.Context, after string, limit int) ([]team.Team, error) {
	rows, err := s.query(ctx, nil, `SELECT `+teamColumns+` FROM teams WHERE name > ? ORDER BY name LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	ts := []team.Team{}
	var names []string
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, fmt.Errorf("scan team: %w", err)
		}
		ts = append(ts, t)
		names = append(names, t.Name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	if len(ts) == 0 {
		return ts, nil
	}
	return ts, s.loadTeamChildren(ctx, ts, names)
}

// loadTeamChildren fills members and quotas of ts (sorted by name, as names)
// with one query over both child tables.
func (s *Store) loadTeamChildren(ctx context.Context, ts []team.Team, names []string) error {
	idx := make(map[string]int, len(ts))
	for i, t := range ts {
		idx[t.Name] = i
	}
	lo, hi := names[0], names[len(names)-1]
	rows, err := s.query(ctx, nil, `SELECT team, 0 AS kind, position, subject, role, 0, 0 FROM team_members WHERE team >= ? AND team <= ?
		UNION ALL
		SELECT team, 1 AS kind, position, gpu_type, '', nominal, borrowing_limit FROM team_gpu_quotas WHERE team >= ? AND team <= ?
		ORDER BY 1, 2, 3`, lo, hi, lo, hi)
	if err != nil {
		return fmt.Errorf("load team members and quotas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tn, key, role string
		var kind, pos, nominal, borrow int
		if err := rows.Scan(&tn, &kind, &pos, &key, &role, &nominal, &borrow); err != nil {
			return fmt.Errorf("scan team child: %w", err)
		}
		i, ok := idx[tn]
		switch {
		case !ok:
		case kind == 0:
			ts[i].Members = append(ts[i].Members, identity.Member{Subject: key, Role: identity.Role(role)})
		default:
			ts[i].GPUQuota = append(ts[i].GPUQuota, team.GPUQuota{GPUType: key, Nominal: nominal, BorrowingLimit: borrow})
		}
	}
	return rows.Err()
}

// UpdateTeam replaces a team's fields if its version is still ifVersion.
func (s *Store) UpdateTeam(ctx context.Context, t team.Team, ifVersion int64) (team.Team, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE teams SET display_name = ?, description = ?, backstage_group = ?, cost_center = ?, fair_share_weight = ?,
			updated_at = ?, version = ? WHERE name = ? AND version = ?`,
			t.DisplayName, t.Description, t.BackstageGroup, t.CostCenter, teamWeight(t), micros(t.UpdatedAt), t.Version, t.Name, ifVersion)
		if err != nil {
			return fmt.Errorf("update team: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.missingOrStale(ctx, tx, t.Name)
		}
		return s.replaceTeamChildren(ctx, tx, t)
	})
	if err != nil {
		return team.Team{}, err
	}
	t.FairShareWeight = teamWeight(t)
	return t, nil
}

func (s *Store) missingOrStale(ctx context.Context, tx *sql.Tx, name string) error {
	var n int
	if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM teams WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("check team: %w", err)
	}
	if n == 0 {
		return fault.NotFound("team", name)
	}
	return fault.New(fault.ErrPreconditionFailed, "team %q changed since you read it; read it again and reapply your change", name)
}

// DeleteTeam deletes a team (and, by cascade, its members and quotas) if its
// version is still ifVersion (0 = any).
func (s *Store) DeleteTeam(ctx context.Context, name string, ifVersion int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		q, args := `DELETE FROM teams WHERE name = ?`, []any{name}
		if ifVersion != 0 {
			q, args = q+` AND version = ?`, append(args, ifVersion)
		}
		res, err := s.exec(ctx, tx, q, args...)
		if err != nil {
			return fmt.Errorf("delete team: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.missingOrStale(ctx, tx, name)
		}
		return nil
	})
}
