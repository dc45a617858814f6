package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/jobs"
)

var (
	_ cost.Ledger  = (*Store)(nil)
	_ cost.Budgets = (*Store)(nil)
)

// costGroups are the grouping columns of SumJobCosts; ? is the month
// unfinished jobs are charged to.
var costGroups = map[cost.GroupBy]string{
	cost.ByTeam:    "team",
	cost.ByProject: "team, project",
	cost.ByMonth:   "CASE WHEN finished_at = 0 THEN ? ELSE month END",
	cost.ByGPUType: "gpu_type",
}

// SumJobCosts sums the GPU-seconds and cost recorded on the jobs f selects
// that used GPU time (or cost something) or hold GPUs now, grouped by g,
// in one aggregate query that reads only the covering index jobs_team_costs
// (one team) or jobs_costs.
func (s *Store) SumJobCosts(ctx context.Context, f cost.LedgerFilter, g cost.GroupBy) ([]cost.Line, error) {
	group, ok := costGroups[g]
	if !ok {
		return nil, fmt.Errorf("sum job costs: unknown grouping %q", g)
	}
	var args []any
	if g == cost.ByMonth {
		args = append(args, f.Month)
	}
	var where []string
	if f.Team != "" {
		where, args = append(where, "team = ?"), append(args, f.Team)
	}
	if f.Project != "" {
		where, args = append(where, "project = ?"), append(args, f.Project)
	}
	ended := "finished_at > 0"
	if !f.From.IsZero() {
		ended, args = ended+" AND finished_at >= ?", append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		ended, args = ended+" AND finished_at < ?", append(args, micros(f.To))
	}
	charged := "(" + ended + " AND (gpu_seconds > 0 OR cost > 0))"
	if f.Unfinished {
		charged = "(" + charged + " OR (finished_at = 0 AND (gpu_seconds > 0 OR cost > 0 OR state IN (?, ?, ?))))"
		args = append(args, string(jobs.StateStarting), string(jobs.StateRunning), string(jobs.StateStopping))
	}
	where = append(where, charged)
	cols := strings.Count(group, ",") + 1
	q := `SELECT ` + group + `, COUNT(*), SUM(gpu_seconds), SUM(cost) FROM jobs WHERE ` + strings.Join(where, " AND ") +
		` GROUP BY ` + positions(cols) + ` ORDER BY ` + positions(cols)
	rows, err := s.query(ctx, nil, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sum job costs: %w", err)
	}
	defer rows.Close()
	out := []cost.Line{}
	for rows.Next() {
		var l cost.Line
		var k1, k2 string
		dest := []any{&k1}
		if cols == 2 {
			dest = append(dest, &k2)
		}
		if err := rows.Scan(append(dest, &l.Jobs, &l.GPUSeconds, &l.Cost)...); err != nil {
			return nil, fmt.Errorf("sum job costs: %w", err)
		}
		switch g {
		case cost.ByTeam:
			l.Key.Team = k1
		case cost.ByProject:
			l.Key.Team, l.Key.Project = k1, k2
		case cost.ByMonth:
			l.Key.Month = k1
		case cost.ByGPUType:
			l.Key.GPUType = k1
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sum job costs: %w", err)
	}
	return out, nil
}

// positions is "1, 2, …, n" for GROUP BY and ORDER BY.
func positions(n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprint(i + 1)
	}
	return strings.Join(p, ", ")
}

// GetBudget returns a team's budget.
func (s *Store) GetBudget(ctx context.Context, team string) (cost.Budget, error) {
	b := cost.Budget{Team: team}
	var hard int
	var updated int64
	err := s.queryRow(ctx, nil, `SELECT monthly_amount, warning_threshold, hard_limit, updated_by, updated_at, version FROM budgets WHERE team = ?`, team).
		Scan(&b.MonthlyAmount, &b.WarningThreshold, &hard, &b.UpdatedBy, &updated, &b.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return cost.Budget{}, fault.New(fault.ErrNotFound, "team %s has no budget; a platform admin sets one with `mlportal budget set --team %s`", team, team)
	}
	if err != nil {
		return cost.Budget{}, fmt.Errorf("get budget: %w", err)
	}
	b.HardLimit, b.UpdatedAt = hard != 0, fromMicros(updated)
	return b, nil
}

// PutBudget creates a budget (ifVersion 0) or replaces the one of version
// ifVersion.
func (s *Store) PutBudget(ctx context.Context, b cost.Budget, ifVersion int64) error {
	hard := 0
	if b.HardLimit {
		hard = 1
	}
	stale := fault.New(fault.ErrPreconditionFailed, "team %s's budget changed meanwhile; read it again and reapply your change", b.Team)
	if ifVersion == 0 {
		_, err := s.exec(ctx, nil, `INSERT INTO budgets (team, monthly_amount, warning_threshold, hard_limit, updated_by, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, b.Team, b.MonthlyAmount, b.WarningThreshold, hard, b.UpdatedBy, micros(b.UpdatedAt), b.Version)
		if isUniqueViolation(err) {
			return stale
		}
		if err != nil {
			return fmt.Errorf("insert budget: %w", err)
		}
		return nil
	}
	res, err := s.exec(ctx, nil, `UPDATE budgets SET monthly_amount = ?, warning_threshold = ?, hard_limit = ?, updated_by = ?, updated_at = ?, version = ?
		WHERE team = ? AND version = ?`, b.MonthlyAmount, b.WarningThreshold, hard, b.UpdatedBy, micros(b.UpdatedAt), b.Version, b.Team, ifVersion)
	if err != nil {
		return fmt.Errorf("update budget: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return stale
	}
	return nil
}
