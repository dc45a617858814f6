package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// insertMany is an INSERT of many rows into a table's columns, for the
// writes a scheduling cycle makes in bulk (runs, their tags, tokens).
type insertMany struct {
	table string
	cols  []string
	types []string // each column's PostgreSQL type: text or bigint
}

// run inserts args (len(cols) values a row, strings for text columns and
// int64s for bigint ones). On PostgreSQL it is one statement however many
// rows there are: INSERT … SELECT FROM unnest of one array per column
// (multi-row VALUES in chunks of fixed sizes took a round trip per chunk,
// 17 per project in a batch of 500 jobs). On SQLite, in process, it is
// multi-row INSERTs in chunks of chunkSizes rows.
func (b insertMany) run(ctx context.Context, s *Store, tx *sql.Tx, args []any) error {
	n := len(b.cols)
	if len(args)%n != 0 {
		return fmt.Errorf("insert into %s: %d values for %d columns", b.table, len(args), n)
	}
	if len(args) == 0 {
		return nil
	}
	if s.driver == Postgres {
		arrays, err := b.columns(args)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, b.unnestSQL(), arrays...)
		return err
	}
	for _, rows := range chunks(len(args) / n) {
		if _, err := s.exec(ctx, tx, b.valuesSQL(rows), args[:rows*n]...); err != nil {
			return err
		}
		args = args[rows*n:]
	}
	return nil
}

func (b insertMany) head() string {
	return "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") "
}

// valuesSQL is the multi-row INSERT of rows rows.
func (b insertMany) valuesSQL(rows int) string {
	return b.head() + "VALUES " + rowsOf(len(b.cols), rows)
}

// unnestSQL is the INSERT of one array per column (PostgreSQL).
func (b insertMany) unnestSQL() string {
	params := make([]string, len(b.types))
	for i, t := range b.types {
		params[i] = "?::" + t + "[]"
	}
	return b.head() + "SELECT * FROM unnest(" + strings.Join(params, ", ") + ")"
}

// columns turns row-major args into one typed slice per column.
func (b insertMany) columns(args []any) ([]any, error) {
	out := make([]any, len(b.cols))
	for c, t := range b.types {
		var err error
		switch t {
		case "text":
			out[c], err = column[string](b, args, c)
		case "bigint":
			out[c], err = column[int64](b, args, c)
		default:
			err = fmt.Errorf("insert into %s: column type %q", b.table, t)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// column is column c of row-major args, each value a T.
func column[T any](b insertMany, args []any, c int) ([]T, error) {
	n := len(b.cols)
	col := make([]T, len(args)/n)
	for r := range col {
		v, ok := args[r*n+c].(T)
		if !ok {
			return nil, fmt.Errorf("insert into %s: %s is %T, want a %T", b.table, b.cols[c], args[r*n+c], v)
		}
		col[r] = v
	}
	return col, nil
}
