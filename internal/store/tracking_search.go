package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/mlportal/mlportal/internal/tracking"
)

// cond accumulates a WHERE clause and its arguments.
type cond struct {
	parts []string
	args  []any
}

func (c *cond) add(sql string, args ...any) {
	c.parts = append(c.parts, sql)
	c.args = append(c.args, args...)
}

func (c *cond) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// textOp compiles a string comparison on col; LIKE is case-sensitive on
// both backends (GLOB on SQLite), ILIKE case-insensitive.
func (s *Store) textOp(col, op, value string, values []string) (string, []any) {
	switch op {
	case tracking.OpLike:
		if s.driver == SQLite {
			return col + " GLOB ?", []any{globPattern(value)}
		}
		return col + " LIKE ?", []any{value}
	case tracking.OpILike:
		if s.driver == SQLite {
			return col + " LIKE ?", []any{value}
		}
		return col + " ILIKE ?", []any{value}
	case tracking.OpIn, tracking.OpNotIn:
		args := make([]any, len(values))
		for i, v := range values {
			args[i] = v
		}
		not := ""
		if op == tracking.OpNotIn {
			not = "NOT "
		}
		return col + " " + not + "IN (" + placeholders(len(values)) + ")", args
	}
	return col + " " + op + " ?", []any{value}
}

// keyedFilter compiles a param or tag comparison into a membership test on
// table (run_params, run_tags), using its (key, substr(value)) index for =.
func (s *Store) keyedFilter(idCol, table, owner string, c tracking.Comparison) (string, []any) {
	switch c.Op {
	case tracking.OpIsNull:
		return idCol + " NOT IN (SELECT " + owner + " FROM " + table + " WHERE key = ?)", []any{c.Key}
	case tracking.OpIsNotNull:
		return idCol + " IN (SELECT " + owner + " FROM " + table + " WHERE key = ?)", []any{c.Key}
	case tracking.OpEq:
		pred, args := valueEquals("value", c.Value)
		return idCol + " IN (SELECT " + owner + " FROM " + table + " WHERE key = ? AND " + pred + ")", append([]any{c.Key}, args...)
	}
	pred, args := s.textOp("value", c.Op, c.Value, c.Values)
	return idCol + " IN (SELECT " + owner + " FROM " + table + " WHERE key = ? AND " + pred + ")", append([]any{c.Key}, args...)
}

// valueEquals tests col = v through the (key, substr(value, 1, 200),
// length(value)) index: for values of up to 200 characters prefix and
// length decide equality without reading the row.
func valueEquals(col, v string) (string, []any) {
	pred := "substr(" + col + ", 1, 200) = substr(?, 1, 200) AND length(" + col + ") = ?"
	args := []any{v, int64(utf8.RuneCountInString(v))}
	if utf8.RuneCountInString(v) > 200 {
		pred += " AND " + col + " = ?"
		args = append(args, v)
	}
	return pred, args
}

// shortValue is the longest param or tag value (in characters) that the
// partial (experiment_id, key, value, run_id) indexes of migration 0012
// hold.
const shortValue = 200

// runValueEquals tests col = v on run_params or run_tags: a value of up to
// shortValue characters through the partial index that holds the value
// itself (`length(col) <= 200` is that index's condition, written out so
// that the planners see it applies), which answers without reading the
// table; a longer one through the prefix index (valueEquals).
func runValueEquals(col, v string) (string, []any) {
	if utf8.RuneCountInString(v) > shortValue {
		return valueEquals(col, v)
	}
	return col + " = ? AND length(" + col + ") <= " + strconv.Itoa(shortValue), []any{v}
}

var runAttributeColumns = map[string]string{
	"run_id": "r.id", "run_name": "r.name", "status": "r.status", "user_id": "r.user_id", "artifact_uri": "r.artifact_uri",
	"lifecycle_stage": "r.lifecycle_stage", "start_time": "r.start_time", "end_time": "r.end_time",
}

// SearchRuns compiles the query to SQL that selects a page of run ids with
// their sort values (keyset pagination), then loads the page's data with
// one query per table. On PostgreSQL a search of one experiment ordered
// first by a metric walks that metric's index in order and stops at the
// page (walkSearch).
func (s *Store) SearchRuns(ctx context.Context, q tracking.RunQuery) ([]tracking.Run, string, error) {
	return s.searchRuns(ctx, q, s.driver == Postgres)
}

// runSearch is a run search compiled to SQL pieces: the generic query is
// from + filterJoins + orderJoins + where; walkSearch reuses the pieces.
type runSearch struct {
	exps            []any  // the experiment ids
	inExps          string // " IN (?, …)" of exps
	base            cond   // conditions on r alone (experiment, stage, attributes, anti-joins)
	fjs             []filterJoin
	driver          int      // index in fjs of the filter that drives the generic query, or -1
	orderJoins      []string // LEFT JOINs of the order keys' tables, one argument (the key) each
	orderArgs       []any
	keys            []sortKey
	after           []any // the page token's sort values, nil on the first page
	limit           int   // rows to select: a page plus one
	firstMetric     bool  // the first order key is a metric (alias o0)
	firstMetricKey  string
	firstMetricDesc bool
}

// filterJoin is a comparison on a metric, param or tag: a join on (run,
// key), unique in each table.
type filterJoin struct {
	table, alias, cond string
	args               []any
	rank               int // lower drives first
}

// searchRuns is SearchRuns; walk false keeps to the generic query (the
// tests compare the two).
func (s *Store) searchRuns(ctx context.Context, q tracking.RunQuery, walk bool) ([]tracking.Run, string, error) {
	rs, err := s.compileRunSearch(q)
	if err != nil {
		return nil, "", err
	}
	var ids []string
	var rowVals [][]any
	if walk && rs.firstMetric && len(rs.exps) == 1 && s.driver == Postgres {
		ids, rowVals, err = s.walkSearch(ctx, rs)
	} else {
		query, args := rs.genericSQL(s.driver)
		ids, rowVals, err = s.searchIDs(ctx, query, args, rs.keys)
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ids) > q.MaxResults {
		ids = ids[:q.MaxResults]
		next = encodeToken(rowVals[q.MaxResults-1])
	}
	if len(ids) == 0 {
		return nil, next, nil
	}
	if s.driver == Postgres {
		runs, err := s.loadRunsPG(ctx, ids, nil)
		return runs, next, err
	}
	runs, err := s.runsByID(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	if err := s.loadRunData(ctx, runs); err != nil {
		return nil, "", err
	}
	return runs, next, nil
}

func (s *Store) compileRunSearch(q tracking.RunQuery) (*runSearch, error) {
	rs := &runSearch{driver: -1, limit: q.MaxResults + 1}
	rs.exps = make([]any, len(q.ExperimentIDs))
	for i, id := range q.ExperimentIDs {
		rs.exps[i] = mustInt(id)
	}
	exps, inExps := rs.exps, " IN ("+placeholders(len(rs.exps))+")"
	rs.inExps = inExps
	w := &rs.base
	w.add("r.experiment_id"+inExps, exps...)
	stages := q.View.Stages()
	if len(stages) == 1 {
		w.add("r.lifecycle_stage = ?", stages[0])
	}
	// Comparisons on metrics, params and tags are inner joins on (run, key),
	// unique in each table; IS NULL stays an anti-join. One of them drives
	// the search (the table left of CROSS JOIN, which SQLite keeps outer):
	// the first equality on a param or tag, else the first metric range,
	// else any other comparison, read through its (experiment_id, key,
	// value) index — never more rows than the experiment has runs. Left to
	// itself SQLite without statistics (it never gathers them on its own)
	// drove from every run of the experiment instead; PostgreSQL plans the
	// joins in any order.
	for i, c := range q.Filter {
		alias := "f" + strconv.Itoa(i)
		switch c.Entity {
		case tracking.EntityMetric:
			rs.fjs = append(rs.fjs, filterJoin{"run_latest_metrics", alias,
				fmt.Sprintf("%s.key = ? AND %s.is_nan = 0 AND %s.value %s ?", alias, alias, alias, c.Op), []any{c.Key, c.Number}, 1})
		case tracking.EntityParam, tracking.EntityTag:
			table := "run_params"
			if c.Entity == tracking.EntityTag {
				table = "run_tags"
			}
			switch c.Op {
			case tracking.OpIsNull, tracking.OpIsNotNull:
				not := ""
				if c.Op == tracking.OpIsNull {
					not = "NOT "
				}
				w.add("r.id "+not+"IN (SELECT run_id FROM "+table+" WHERE experiment_id"+inExps+" AND key = ?)", append(append([]any{}, exps...), c.Key)...)
				continue
			case tracking.OpEq:
				pred, args := runValueEquals(alias+".value", c.Value)
				rs.fjs = append(rs.fjs, filterJoin{table, alias, alias + ".key = ? AND " + pred, append([]any{c.Key}, args...), 0})
			default:
				pred, args := s.textOp(alias+".value", c.Op, c.Value, c.Values)
				rs.fjs = append(rs.fjs, filterJoin{table, alias, alias + ".key = ? AND " + pred, append([]any{c.Key}, args...), 2})
			}
		case tracking.EntityAttribute:
			col := runAttributeColumns[c.Key]
			if tracking.NumericRunAttribute(c.Key) {
				w.add(col+" "+c.Op+" ?", int64(c.Number))
				continue
			}
			pred, args := s.textOp(col, c.Op, c.Value, c.Values)
			w.add(pred, args...)
		case tracking.EntityDataset:
			col := map[string]string{"name": "name", "digest": "digest", "context": "context"}[c.Key]
			pred, args := s.textOp(col, c.Op, c.Value, c.Values)
			w.add("r.id IN (SELECT run_id FROM run_inputs WHERE kind = 'dataset' AND "+pred+")", args...)
		}
	}
	for i, f := range rs.fjs {
		if rs.driver < 0 || f.rank < rs.fjs[rs.driver].rank {
			rs.driver = i
		}
	}
	hasStart, hasID := false, false
	for i, o := range q.OrderBy {
		alias := "o" + strconv.Itoa(i)
		switch o.Entity {
		case tracking.EntityMetric:
			if i == 0 {
				rs.firstMetric, rs.firstMetricKey, rs.firstMetricDesc = true, o.Key, o.Desc
			}
			rs.orderJoins = append(rs.orderJoins, fmt.Sprintf(" LEFT JOIN run_latest_metrics %s ON %s.run_id = r.id AND %s.key = ?", alias, alias, alias))
			rs.orderArgs = append(rs.orderArgs, o.Key)
			rs.keys = append(rs.keys,
				sortKey{expr: fmt.Sprintf("CASE WHEN %s.run_id IS NULL THEN 2 WHEN %s.is_nan = 1 THEN 1 ELSE 0 END", alias, alias), kind: 'i'},
				sortKey{expr: fmt.Sprintf("COALESCE(%s.value, 0)", alias), desc: o.Desc, kind: 'f'})
		case tracking.EntityParam, tracking.EntityTag:
			table := "run_params"
			if o.Entity == tracking.EntityTag {
				table = "run_tags"
			}
			rs.orderJoins = append(rs.orderJoins, fmt.Sprintf(" LEFT JOIN %s %s ON %s.run_id = r.id AND %s.key = ?", table, alias, alias, alias))
			rs.orderArgs = append(rs.orderArgs, o.Key)
			rs.keys = append(rs.keys,
				sortKey{expr: fmt.Sprintf("CASE WHEN %s.run_id IS NULL THEN 1 ELSE 0 END", alias), kind: 'i'},
				sortKey{expr: fmt.Sprintf("COALESCE(%s.value, '')", alias), desc: o.Desc, kind: 's'})
		case tracking.EntityAttribute:
			col := runAttributeColumns[o.Key]
			switch o.Key {
			case "start_time":
				hasStart = true
				rs.keys = append(rs.keys, sortKey{expr: col, desc: o.Desc, kind: 'i'})
			case "end_time":
				rs.keys = append(rs.keys, sortKey{expr: "CASE WHEN r.end_time IS NULL THEN 1 ELSE 0 END", kind: 'i'},
					sortKey{expr: "COALESCE(r.end_time, 0)", desc: o.Desc, kind: 'i'})
			case "run_id":
				hasID = true
				rs.keys = append(rs.keys, sortKey{expr: col, desc: o.Desc, kind: 's'})
			default:
				rs.keys = append(rs.keys, sortKey{expr: col, desc: o.Desc, kind: 's'})
			}
		}
	}
	if !hasStart {
		rs.keys = append(rs.keys, sortKey{expr: "r.start_time", desc: true, kind: 'i'})
	}
	if !hasID {
		rs.keys = append(rs.keys, sortKey{expr: "r.id", kind: 's'})
	}
	if q.PageToken != "" {
		vals, err := decodeToken(q.PageToken, rs.keys)
		if err != nil {
			return nil, err
		}
		rs.after = vals
	}
	return rs, nil
}

// genericSQL is the search as one statement whose join order the planner
// (or, on SQLite, the driving filter) decides: every matching run is
// found, then sorted.
func (rs *runSearch) genericSQL(driver string) (string, []any) {
	w := cond{parts: append([]string{}, rs.base.parts...), args: append([]any{}, rs.base.args...)}
	from := " FROM runs r"
	var joins strings.Builder
	var joinArgs []any
	for i, f := range rs.fjs {
		if i == rs.driver {
			from = " FROM " + f.table + " " + f.alias + " CROSS JOIN runs r"
			w.add(f.alias+".run_id = r.id AND "+f.alias+".experiment_id"+rs.inExps+" AND "+f.cond, append(append([]any{}, rs.exps...), f.args...)...)
			continue
		}
		if driver == Postgres {
			// PostgreSQL may hash-join two filters' index ranges instead of
			// probing one per row of the other: give it both ranges.
			fmt.Fprintf(&joins, " JOIN %s %s ON %s.run_id = r.id AND %s.experiment_id%s AND %s", f.table, f.alias, f.alias, f.alias, rs.inExps, f.cond)
			joinArgs = append(append(joinArgs, rs.exps...), f.args...)
			continue
		}
		fmt.Fprintf(&joins, " JOIN %s %s ON %s.run_id = r.id AND %s", f.table, f.alias, f.alias, f.cond)
		joinArgs = append(joinArgs, f.args...)
	}
	joins.WriteString(strings.Join(rs.orderJoins, ""))
	joinArgs = append(joinArgs, rs.orderArgs...)
	if rs.after != nil {
		pred, args := afterSQL(rs.keys, rs.after)
		w.add(pred, args...)
	}
	// Phase 1 selects only ids and sort values, which the covering indexes
	// answer; phase 2 loads the page's runs.
	query := "SELECT r.id, " + keyColumns(rs.keys) + from + joins.String() + w.where() + orderBySQL(rs.keys) + " LIMIT ?"
	return query, append(append(joinArgs, w.args...), rs.limit)
}

// searchIDs runs a phase-1 query: run ids with their sort values.
//
// On PostgreSQL it is planned for its own arguments every time (pgx's
// unnamed statement) rather than prepared and cached: after five runs of a
// prepared statement PostgreSQL may switch to a generic plan, which cannot
// see how many runs a filter's value matches, and the one it chose for the
// benchmark's search drove from the param's 10,000 runs with an index probe
// each (80 ms of PostgreSQL CPU instead of 42). Planning costs about 2 ms.
func (s *Store) searchIDs(ctx context.Context, query string, args []any, keys []sortKey) ([]string, [][]any, error) {
	if s.driver == Postgres {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("search runs: %w", err)
	}
	defer rows.Close()
	var ids []string
	var rowVals [][]any
	for rows.Next() {
		var id string
		dst, vals := scanKeys(keys)
		if err := rows.Scan(append([]any{&id}, dst...)...); err != nil {
			return nil, nil, fmt.Errorf("scan run: %w", err)
		}
		ids = append(ids, id)
		rowVals = append(rowVals, vals())
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("search runs: %w", err)
	}
	return ids, rowVals, nil
}

// walkSearch answers a search of one experiment ordered first by a metric,
// on PostgreSQL, by walking the metric's (experiment_id, key, is_nan,
// value, run_id) index in order from the page token and stopping at the
// page. Each filter is either a hashed `IN (SELECT …)` over its own index
// range, built once and probed per walked row, or a lookup per walked row
// in its (run, key) index, whichever planWalk expects to cost less; the
// planner finishes ties with an incremental sort. The generic query
// instead finds every match (2,000 of 100,000 runs in the benchmark),
// looks up each one's run and sort value (two index probes per match) and
// sorts them: 42 ms of PostgreSQL CPU against 8 for the walk.
//
// The walk reads at most walkFactor rows per row of the page. When that
// does not fill the page — a filter matches under 1 % of the runs, or the
// page reaches the runs with NaN or without the metric — the generic query
// answers the page instead: it is the faster one when matches are few;
// planWalk skips a walk its estimates say would come up short.
//
// A subplan is hashed only if the planner expects its rows to fit in
// work_mem (times hash_mem_multiplier); otherwise it scans the filter's
// rows again for every walked row. The walk runs with work_mem raised to
// searchWorkMem for its one statement (walkPG), which fits the hash of
// millions of runs: a hash is as large as its filter's matches, and
// nothing else in the query sorts or hashes much.
func (s *Store) walkSearch(ctx context.Context, rs *runSearch) ([]string, [][]any, error) {
	if rs.after == nil || rs.after[0].(int64) == 0 {
		plan, ok, err := s.planWalk(ctx, rs)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			ids, vals, err := s.walkPG(ctx, rs, plan)
			if err != nil || len(ids) == rs.limit {
				return ids, vals, err
			}
		}
	}
	query, args := rs.genericSQL(s.driver)
	return s.searchIDs(ctx, query, args, rs.keys)
}

// walkFactor bounds a walk: rows of the metric read per row of the page
// (a variable for the tests).
var walkFactor = 100

// searchWorkMem is PostgreSQL's work_mem for a walk.
const searchWorkMem = "64MB"

// walkSQL is the bounded walk over the runs with a value of the first
// order key's metric.
func (rs *runSearch) walkSQL(plan walkPlan) (string, []any) {
	// Ordered by the index's own column, not the COALESCE of the generic
	// keys, so that the planner sees the index's order.
	order := append([]sortKey{{expr: "o0.value", desc: rs.firstMetricDesc, kind: 'f'}}, rs.keys[2:]...)
	var inner, w cond
	inner.add("experiment_id = ? AND key = ? AND is_nan = 0", rs.exps[0], rs.firstMetricKey)
	if rs.after != nil {
		vals := rs.after[1:]
		op := " >= ?" // a bound the index seeks to; the page predicate is an OR
		if rs.firstMetricDesc {
			op = " <= ?"
		}
		inner.add("value"+op, vals[0])
		pred, args := afterSQL(order, vals)
		w.add(pred, args...)
	}
	w.add("r.id = o0.run_id")
	w.parts = append(w.parts, rs.base.parts...)
	w.args = append(w.args, rs.base.args...)
	for _, i := range plan.order {
		f := rs.fjs[i]
		if plan.probe[i] {
			// OFFSET 0 keeps PostgreSQL from turning the EXISTS into a
			// semi-join or a hash: it stays a lookup per walked row, in
			// the (run, key) index. The planner tests the hashed filters
			// first (cheaper per row), then these in the order written.
			w.add("EXISTS (SELECT 1 FROM "+f.table+" "+f.alias+" WHERE "+f.alias+".run_id = o0.run_id AND "+f.cond+" OFFSET 0)", f.args...)
			continue
		}
		// IS TRUE keeps PostgreSQL from turning the IN into a semi-join,
		// which would lose the walk's order: it stays a hashed subplan.
		w.add("(o0.run_id IN (SELECT "+f.alias+".run_id FROM "+f.table+" "+f.alias+" WHERE "+f.alias+".experiment_id"+rs.inExps+" AND "+f.cond+")) IS TRUE",
			append(append([]any{}, rs.exps...), f.args...)...)
	}
	dir := " ASC"
	if rs.firstMetricDesc {
		dir = " DESC"
	}
	// WITH TIES: a bound inside a group of equal values would keep an
	// arbitrary part of it, and the group's order is decided by later keys.
	query := "SELECT r.id, " + keyColumns(rs.keys) +
		" FROM (SELECT run_id, is_nan, value FROM run_latest_metrics" + inner.where() + " ORDER BY value" + dir +
		" FETCH FIRST ? ROWS WITH TIES) o0" +
		" CROSS JOIN runs r" + strings.Join(rs.orderJoins[1:], "") + w.where() + orderBySQL(order) + " LIMIT ?"
	args := append(append(inner.args, walkFactor*rs.limit), rs.orderArgs[1:]...)
	return query, append(append(args, w.args...), rs.limit)
}

// runsByID loads runs' metadata in the order of ids.
func (s *Store) runsByID(ctx context.Context, ids []string) ([]tracking.Run, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	pos := make(map[string]int, len(ids))
	for i, id := range ids {
		args[i], pos[id] = id, i
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+runInfoColumns+` FROM runs r JOIN experiments e ON e.id = r.experiment_id
		WHERE r.id IN (`+placeholders(len(ids))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("load runs: %w", err)
	}
	defer rows.Close()
	runs := make([]tracking.Run, len(ids))
	for rows.Next() {
		ri, err := scanRunInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("scan run: %w", err)
		}
		runs[pos[ri.ID]].Info = ri
	}
	return runs, rows.Err()
}

// SearchExperiments returns a page of experiments, by default the newest
// first.
func (s *Store) SearchExperiments(ctx context.Context, q tracking.ExperimentQuery) ([]tracking.Experiment, string, error) {
	var w cond
	stages := q.View.Stages()
	if q.View == 0 {
		stages = tracking.ViewActiveOnly.Stages()
	}
	if len(stages) == 1 {
		w.add("x.lifecycle_stage = ?", stages[0])
	}
	for _, c := range q.Filter {
		switch {
		case c.Entity == tracking.EntityTag:
			pred, args := s.keyedFilter("x.id", "experiment_tags", "experiment_id", c)
			w.add(pred, args...)
		case c.Key == "name":
			pred, args := s.textOp("x.name", c.Op, c.Value, c.Values)
			w.add(pred, args...)
		default: // creation_time, last_update_time
			w.add("x."+c.Key+" "+c.Op+" ?", int64(c.Number))
		}
	}
	var keys []sortKey
	hasID := false
	for _, o := range q.OrderBy {
		switch o.Key {
		case "name":
			keys = append(keys, sortKey{expr: "x.name", desc: o.Desc, kind: 's'})
		case "experiment_id":
			hasID = true
			keys = append(keys, sortKey{expr: "x.id", desc: o.Desc, kind: 'i'})
		default:
			keys = append(keys, sortKey{expr: "x." + o.Key, desc: o.Desc, kind: 'i'})
		}
	}
	if len(q.OrderBy) == 0 {
		keys = append(keys, sortKey{expr: "x.creation_time", desc: true, kind: 'i'})
	}
	if !hasID {
		keys = append(keys, sortKey{expr: "x.id", kind: 'i'})
	}
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
	query := "SELECT x.id, x.name, x.team, x.artifact_location, x.lifecycle_stage, x.creation_time, x.last_update_time, " +
		strings.Join(cols, ", ") + " FROM experiments x" + w.where() + orderBySQL(keys) + " LIMIT ?"
	rows, err := s.db.QueryContext(ctx, s.q(query), append(w.args, q.MaxResults+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("search experiments: %w", err)
	}
	defer rows.Close()
	var out []tracking.Experiment
	var rowVals [][]any
	for rows.Next() {
		var e tracking.Experiment
		var id int64
		dst, vals := scanKeys(keys)
		if err := rows.Scan(append([]any{&id, &e.Name, &e.Team, &e.ArtifactLocation, &e.LifecycleStage, &e.CreationTime, &e.LastUpdateTime}, dst...)...); err != nil {
			return nil, "", fmt.Errorf("scan experiment: %w", err)
		}
		e.ID = strconv.FormatInt(id, 10)
		out = append(out, e)
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
	return out, next, s.loadExperimentTags(ctx, out)
}
