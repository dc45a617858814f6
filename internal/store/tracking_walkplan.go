package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// walkPlan says how a walk tests each filter: order lists the indexes of
// runSearch.fjs in the order the walk tests them, and probe[i] says that
// fjs[i] is looked up per walked row instead of hashed whole.
type walkPlan struct {
	order []int
	probe []bool
}

// The walk's cost model, in microseconds of PostgreSQL CPU, measured on
// 100,000 runs: hashing a filter's index range costs about walkHashCost
// per matching row (an index-only scan and a hash insert), looking one
// run up in a filter's (run, key) index about walkProbeCost. A filter
// matching 20 % of the runs costs 8 ms hashed, and 2.5 ms probed for the 500
// walked rows that pass the filters tested before it.
const (
	walkHashCost  = 0.35
	walkProbeCost = 5.0
)

// planWalk asks PostgreSQL's statistics how many runs the walk's metric
// and each filter match (one EXPLAIN, no rows read: about 0.2 ms) and
// picks, among every way of hashing some filters and probing the others,
// the cheapest for the walk's expected length: a page divided by the share
// of walked runs all filters let through (filters taken as independent).
// Probing wins for filters most runs pass, hashing for rare ones. ok is
// false when the walk is expected to read over walkSkip times its bound
// (the filters match too few runs): the generic query answers then, as it
// would after the walk came up short.
func (s *Store) planWalk(ctx context.Context, rs *runSearch) (plan walkPlan, ok bool, err error) {
	n := len(rs.fjs)
	plan = walkPlan{order: make([]int, n), probe: make([]bool, n)}
	for i := range plan.order {
		plan.order[i] = i
	}
	if walkProbeMask >= 0 {
		for i := range plan.probe {
			plan.probe[i] = walkProbeMask&(1<<i) != 0
		}
		return plan, true, nil
	}
	if n == 0 {
		return plan, true, nil
	}
	rows, err := s.estimateWalk(ctx, rs)
	if err != nil || rows == nil {
		return plan, true, err // no estimates: hash every filter
	}
	plan, ok = chooseWalkPlan(rows, rs.limit)
	return plan, ok, nil
}

// chooseWalkPlan is planWalk's choice from the estimates: rows[0] runs
// have the walk's metric, rows[1+i] match filter i; limit is the rows the
// walk must find.
func chooseWalkPlan(rows []float64, limit int) (plan walkPlan, ok bool) {
	n := len(rows) - 1
	plan = walkPlan{order: make([]int, n), probe: make([]bool, n)}
	for i := range plan.order {
		plan.order[i] = i
	}
	total := max(rows[0], 1)
	sel := make([]float64, n)
	for i := range sel {
		sel[i] = min(max(rows[i+1], 1)/total, 1)
	}
	slices.SortStableFunc(plan.order, func(a, b int) int {
		switch {
		case sel[a] < sel[b]:
			return -1
		case sel[a] > sel[b]:
			return 1
		}
		return 0
	})
	all := 1.0
	for _, v := range sel {
		all *= v
	}
	walked := float64(limit) / all
	if walked > walkSkip*float64(walkFactor*limit) {
		return plan, false
	}
	if n > 8 { // 256 plans at most; beyond, hash every filter
		return plan, true
	}
	best := math.Inf(1)
	var bestProbe []bool
	probe := make([]bool, n)
	for mask := 0; mask < 1<<n; mask++ {
		for i := range probe {
			probe[i] = mask&(1<<i) != 0
		}
		// Hashed filters are tested first, then the probed ones, each in
		// ascending order of the share it lets through.
		cost, pass := 0.0, 1.0
		for _, i := range plan.order {
			if !probe[i] {
				cost += walkHashCost * rows[i+1]
				pass *= sel[i]
			}
		}
		for _, i := range plan.order {
			if probe[i] {
				cost += walkProbeCost * walked * pass
				pass *= sel[i]
			}
		}
		if cost < best {
			best, bestProbe = cost, slices.Clone(probe)
		}
	}
	plan.probe = bestProbe
	hashed := slices.DeleteFunc(slices.Clone(plan.order), func(i int) bool { return plan.probe[i] })
	probed := slices.DeleteFunc(slices.Clone(plan.order), func(i int) bool { return !plan.probe[i] })
	plan.order = append(hashed, probed...)
	return plan, true
}

// walkProbeMask, when not negative, fixes the plan for the tests: filter
// i is probed if bit i is set, hashed otherwise, in the order written,
// and the walk is always tried.
var walkProbeMask = -1

// walkSkip: a walk expected to read more than walkSkip times its bound
// is not tried (the estimates are rough: a param's was half the truth).
const walkSkip = 4

// estimateWalk returns the planner's row estimates of the walk's metric
// in the experiment, then of each filter: nil if the plan does not have
// the expected shape.
func (s *Store) estimateWalk(ctx context.Context, rs *runSearch) ([]float64, error) {
	parts := []string{"SELECT 1 FROM run_latest_metrics WHERE experiment_id = ? AND key = ? AND is_nan = 0"}
	args := []any{pgx.QueryExecModeExec, rs.exps[0], rs.firstMetricKey}
	for _, f := range rs.fjs {
		parts = append(parts, "SELECT 1 FROM "+f.table+" "+f.alias+" WHERE "+f.alias+".experiment_id"+rs.inExps+" AND "+f.cond)
		args = append(append(args, rs.exps...), f.args...)
	}
	var out string
	if err := s.db.QueryRowContext(ctx, s.q("EXPLAIN (FORMAT JSON) "+strings.Join(parts, " UNION ALL ")), args...).Scan(&out); err != nil {
		return nil, fmt.Errorf("search runs: estimate the filters: %w", err)
	}
	type node struct {
		Rows  float64 `json:"Plan Rows"`
		Plans []node  `json:"Plans"`
	}
	var doc []struct {
		Plan node `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc) != 1 {
		return nil, nil
	}
	top := doc[0].Plan
	if len(top.Plans) != len(parts) {
		return nil, nil
	}
	rows := make([]float64, len(parts))
	for i, p := range top.Plans {
		rows[i] = p.Rows
	}
	return rows, nil
}
