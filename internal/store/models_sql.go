package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mlportal/mlportal/internal/models"
)

// The registry view reads a page of hundreds of models, versions and runs
// at once. On PostgreSQL a set is one array parameter (= ANY, unnest): one
// statement text whatever the page's size, so its plan is cached and the
// planner joins instead of expanding a long OR. SQLite gets IN lists, in
// batches below its limit on parameters.

const sqliteBatch = 500

// inStrings calls fn with a predicate "col is one of vals" and its
// arguments, once on PostgreSQL and once per batch on SQLite.
func (s *Store) inStrings(col string, vals []string, fn func(pred string, args []any) error) error {
	if len(vals) == 0 {
		return nil
	}
	if s.driver == Postgres {
		return fn(col+" = ANY(?)", []any{vals})
	}
	for start := 0; start < len(vals); start += sqliteBatch {
		batch := vals[start:min(start+sqliteBatch, len(vals))]
		args := make([]any, len(batch))
		for i, v := range batch {
			args[i] = v
		}
		if err := fn(col+" IN ("+placeholders(len(batch))+")", args); err != nil {
			return err
		}
	}
	return nil
}

// inVersionKeys is inStrings for (name, version) pairs over the columns
// of the given table alias ("" for none).
func (s *Store) inVersionKeys(alias string, keys []models.VersionKey, fn func(pred string, args []any) error) error {
	if len(keys) == 0 {
		return nil
	}
	cols := "(name, version)"
	if alias != "" {
		cols = "(" + alias + ".name, " + alias + ".version)"
	}
	if s.driver == Postgres {
		names, versions := make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			names[i], versions[i] = k.Name, k.Version
		}
		return fn(cols+" IN (SELECT * FROM unnest(?::text[], ?::bigint[]))", []any{names, versions})
	}
	for start := 0; start < len(keys); start += sqliteBatch / 2 {
		batch := keys[start:min(start+sqliteBatch/2, len(keys))]
		args := make([]any, 0, 2*len(batch))
		for _, k := range batch {
			args = append(args, k.Name, k.Version)
		}
		if err := fn(cols+" IN ("+rowsOf(2, len(batch))+")", args); err != nil {
			return err
		}
	}
	return nil
}

// eachRow runs query with args and calls scan for every row.
func (s *Store) eachRow(ctx context.Context, what, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("load %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("scan %s: %w", what, err)
		}
	}
	return rows.Err()
}
