package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mlportal/mlportal/internal/tracking"
)

// withPgx runs fn on one of the pool's PostgreSQL connections as pgx's own
// connection, for batches: several statements sent in one round trip,
// which run in one implicit transaction.
func (s *Store) withPgx(ctx context.Context, fn func(c *pgx.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("a PostgreSQL connection is %T, not pgx's", dc)
		}
		return fn(pc.Conn())
	})
}

// walkPG runs a walk's query in one round trip with the settings it needs
// for that one statement (set_config's local values end with the batch's
// implicit transaction):
//   - work_mem at searchWorkMem: a subplan the planner expects not to fit
//     is not hashed but rescanned per row;
//   - plan_cache_mode force_custom_plan: the statement is prepared once per
//     connection (no parsing per search), but planned for its own
//     arguments every time: after five runs PostgreSQL may otherwise switch
//     to a generic plan, which cannot see how many runs a filter's value
//     matches (searchIDs).
func (s *Store) walkPG(ctx context.Context, rs *runSearch, plan walkPlan) (ids []string, rowVals [][]any, err error) {
	query, args := rs.walkSQL(plan)
	err = s.withPgx(ctx, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue("SELECT set_config('work_mem', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)", searchWorkMem)
		b.Queue(s.q(query), args...)
		br := c.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			dst, vals := scanKeys(rs.keys)
			if err := rows.Scan(append([]any{&id}, dst...)...); err != nil {
				return err
			}
			ids = append(ids, id)
			rowVals = append(rowVals, vals())
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return br.Close()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("search runs: %w", err)
	}
	return ids, rowVals, nil
}

// loadRunsPG loads the runs of ids with their params, latest metrics, tags
// and inputs in one round trip: one statement per table, each selecting
// the runs with `= ANY($1)`. runs, when not nil, already holds the runs'
// metadata (ids[i] is runs[i]'s id) and only their data is loaded.
func (s *Store) loadRunsPG(ctx context.Context, ids []string, runs []tracking.Run) ([]tracking.Run, error) {
	withInfo := runs == nil
	if withInfo {
		runs = make([]tracking.Run, len(ids))
		for i, id := range ids {
			runs[i].Info.ID = id
		}
	}
	queries := runDataQueries(runs, "= ANY(?)")
	if withInfo {
		pos := make(map[string]int, len(ids))
		for i, id := range ids {
			pos[id] = i
		}
		queries = append([]runQuery{{"runs", `SELECT ` + runInfoColumns + ` FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ANY(?)`,
			func(rows rowScanner) error {
				ri, err := scanRunInfo(rows)
				if err != nil {
					return err
				}
				runs[pos[ri.ID]].Info = ri
				return nil
			}}}, queries...)
	}
	err := s.withPgx(ctx, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		for _, q := range queries {
			b.Queue(s.q(q.sql), ids)
		}
		br := c.SendBatch(ctx, b)
		defer br.Close()
		for _, q := range queries {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("load %s: %w", q.what, err)
			}
			for rows.Next() {
				if err := q.scan(rows); err != nil {
					rows.Close()
					return fmt.Errorf("scan %s: %w", q.what, err)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("load %s: %w", q.what, err)
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, err
	}
	return runs, nil
}
