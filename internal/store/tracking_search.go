package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

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

var runAttributeColumns = map[string]string{
	"run_id": "r.id", "run_name": "r.name", "status": "r.status", "user_id": "r.user_id", "artifact_uri": "r.artifact_uri",
	"lifecycle_stage": "r.lifecycle_stage", "start_time": "r.start_time", "end_time": "r.end_time",
}

// SearchRuns compiles the query to one SQL statement that selects a page
// of run ids with their sort values (keyset pagination), then loads the
// page's data with one query per table.
func (s *Store) SearchRuns(ctx context.Context, q tracking.RunQuery) ([]tracking.Run, string, error) {
	var w cond
	exps := make([]any, len(q.ExperimentIDs))
	for i, id := range q.ExperimentIDs {
		exps[i] = mustInt(id)
	}
	inExps := " IN (" + placeholders(len(exps)) + ")"
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
	type filterJoin struct {
		table, alias, cond string
		args               []any
		rank               int // lower drives first
	}
	var fjs []filterJoin
	for i, c := range q.Filter {
		alias := "f" + strconv.Itoa(i)
		switch c.Entity {
		case tracking.EntityMetric:
			fjs = append(fjs, filterJoin{"run_latest_metrics", alias,
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
				pred, args := valueEquals(alias+".value", c.Value)
				fjs = append(fjs, filterJoin{table, alias, alias + ".key = ? AND " + pred, append([]any{c.Key}, args...), 0})
			default:
				pred, args := s.textOp(alias+".value", c.Op, c.Value, c.Values)
				fjs = append(fjs, filterJoin{table, alias, alias + ".key = ? AND " + pred, append([]any{c.Key}, args...), 2})
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
	driver := -1
	for i, f := range fjs {
		if driver < 0 || f.rank < fjs[driver].rank {
			driver = i
		}
	}
	from := " FROM runs r"
	var joins strings.Builder
	var joinArgs []any
	for i, f := range fjs {
		if i == driver {
			from = " FROM " + f.table + " " + f.alias + " CROSS JOIN runs r"
			w.add(f.alias+".run_id = r.id AND "+f.alias+".experiment_id"+inExps+" AND "+f.cond, append(append([]any{}, exps...), f.args...)...)
			continue
		}
		if s.driver == Postgres {
			// PostgreSQL may hash-join two filters' index ranges instead of
			// probing one per row of the other: give it both ranges.
			fmt.Fprintf(&joins, " JOIN %s %s ON %s.run_id = r.id AND %s.experiment_id%s AND %s", f.table, f.alias, f.alias, f.alias, inExps, f.cond)
			joinArgs = append(append(joinArgs, exps...), f.args...)
			continue
		}
		fmt.Fprintf(&joins, " JOIN %s %s ON %s.run_id = r.id AND %s", f.table, f.alias, f.alias, f.cond)
		joinArgs = append(joinArgs, f.args...)
	}
	var keys []sortKey
	hasStart, hasID := false, false
	for i, o := range q.OrderBy {
		alias := "o" + strconv.Itoa(i)
		switch o.Entity {
		case tracking.EntityMetric:
			fmt.Fprintf(&joins, " LEFT JOIN run_latest_metrics %s ON %s.run_id = r.id AND %s.key = ?", alias, alias, alias)
			joinArgs = append(joinArgs, o.Key)
			keys = append(keys,
				sortKey{expr: fmt.Sprintf("CASE WHEN %s.run_id IS NULL THEN 2 WHEN %s.is_nan = 1 THEN 1 ELSE 0 END", alias, alias), kind: 'i'},
				sortKey{expr: fmt.Sprintf("COALESCE(%s.value, 0)", alias), desc: o.Desc, kind: 'f'})
		case tracking.EntityParam, tracking.EntityTag:
			table := "run_params"
			if o.Entity == tracking.EntityTag {
				table = "run_tags"
			}
			fmt.Fprintf(&joins, " LEFT JOIN %s %s ON %s.run_id = r.id AND %s.key = ?", table, alias, alias, alias)
			joinArgs = append(joinArgs, o.Key)
			keys = append(keys,
				sortKey{expr: fmt.Sprintf("CASE WHEN %s.run_id IS NULL THEN 1 ELSE 0 END", alias), kind: 'i'},
				sortKey{expr: fmt.Sprintf("COALESCE(%s.value, '')", alias), desc: o.Desc, kind: 's'})
		case tracking.EntityAttribute:
			col := runAttributeColumns[o.Key]
			switch o.Key {
			case "start_time":
				hasStart = true
				keys = append(keys, sortKey{expr: col, desc: o.Desc, kind: 'i'})
			case "end_time":
				keys = append(keys, sortKey{expr: "CASE WHEN r.end_time IS NULL THEN 1 ELSE 0 END", kind: 'i'},
					sortKey{expr: "COALESCE(r.end_time, 0)", desc: o.Desc, kind: 'i'})
			case "run_id":
				hasID = true
				keys = append(keys, sortKey{expr: col, desc: o.Desc, kind: 's'})
			default:
				keys = append(keys, sortKey{expr: col, desc: o.Desc, kind: 's'})
			}
		}
	}
	if !hasStart {
		keys = append(keys, sortKey{expr: "r.start_time", desc: true, kind: 'i'})
	}
	if !hasID {
		keys = append(keys, sortKey{expr: "r.id", kind: 's'})
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
	// Phase 1 selects only ids and sort values, which the covering indexes
	// answer; phase 2 loads the page's runs.
	query := "SELECT r.id, " + strings.Join(cols, ", ") + from + joins.String() + w.where() + orderBySQL(keys) + " LIMIT ?"
	args := append(append(joinArgs, w.args...), q.MaxResults+1)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("search runs: %w", err)
	}
	defer rows.Close()
	var ids []string
	var rowVals [][]any
	for rows.Next() {
		var id string
		dst, vals := scanKeys(keys)
		if err := rows.Scan(append([]any{&id}, dst...)...); err != nil {
			return nil, "", fmt.Errorf("scan run: %w", err)
		}
		ids = append(ids, id)
		rowVals = append(rowVals, vals())
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("search runs: %w", err)
	}
	rows.Close()
	next := ""
	if len(ids) > q.MaxResults {
		ids = ids[:q.MaxResults]
		next = encodeToken(rowVals[q.MaxResults-1])
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
