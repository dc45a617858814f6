// Package store persists mlportal's state in SQL: SQLite (modernc.org/sqlite,
// pure Go) as the embedded default and PostgreSQL (pgx) in production, with one
// set of migrations applied at start-up and the same queries for both.
//
// It implements the Repository interfaces the domain packages declare and maps
// driver errors to fault kinds (unique violation → ErrAlreadyExists, stale
// version → ErrPreconditionFailed). It holds no business rules.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Driver names accepted by Open.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options configure the connection pool.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
}

// Store is a handle on the database.
type Store struct {
	db     *sql.DB
	driver string

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt // prepared once per query text; SQLite would re-plan every call

	changes *changeSignal // wakes change-feed readers (changes.go); shared with OwnPool's stores
	dsn     string        // to open OwnPool's pools

	// writer serializes this process's SQLite writes (nil on PostgreSQL).
	// SQLite has one writer at a time; left to its busy handler, which
	// polls, a write among dozens of concurrent ones could wait past
	// busy_timeout and fail with SQLITE_BUSY (a 500 on POST /api/v1/jobs
	// under 64 concurrent submitters). Queued here, writers take turns.
	writer chan struct{}
}

// Open connects, applies pending migrations and returns the store. For
// SQLite, dsn is a file path; its directory is created.
func Open(ctx context.Context, driver, dsn string, opt Options) (*Store, error) {
	var db *sql.DB
	var err error
	switch driver {
	case SQLite:
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		// A 32 MiB page cache per connection (SQLite's default is 2 MiB),
		// reads through mmap and temporary b-trees (sorts) in memory: a
		// search over 100,000 runs otherwise re-reads pages it just read.
		db, err = sql.Open("sqlite", "file:"+dsn+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"+
			"&_pragma=cache_size(-32768)&_pragma=mmap_size(268435456)&_pragma=temp_store(MEMORY)")
	case Postgres:
		db, err = sql.Open("pgx", dsn)
	default:
		return nil, fmt.Errorf("unknown database driver %q (want sqlite or postgres)", driver)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", driver, err)
	}
	if opt.MaxOpenConns > 0 {
		db.SetMaxOpenConns(opt.MaxOpenConns)
	}
	if opt.MaxIdleConns > 0 {
		db.SetMaxIdleConns(opt.MaxIdleConns)
	}
	if opt.ConnMaxLifetime > 0 {
		db.SetConnMaxLifetime(opt.ConnMaxLifetime)
	}
	s := &Store{db: db, driver: driver, stmts: map[string]*sql.Stmt{}, changes: &changeSignal{}, dsn: dsn}
	if driver == SQLite {
		s.writer = make(chan struct{}, 1)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OwnPool returns the store over a pool of its own of up to conns
// PostgreSQL connections, for work that must not queue behind the API's
// requests for the shared pool: the scheduler's cycle, which records
// thousands of admissions, runs and tokens while clients submit jobs. On
// SQLite, where writes take turns anyway, it returns s. Close the returned
// store when done unless it is s.
func (s *Store) OwnPool(conns int) (*Store, error) {
	if s.driver != Postgres {
		return s, nil
	}
	db, err := sql.Open("pgx", s.dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres database: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return &Store{db: db, driver: s.driver, stmts: map[string]*sql.Stmt{}, changes: s.changes, dsn: s.dsn}, nil
}

// Close closes the prepared statements and the pool.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	clear(s.stmts)
	s.mu.Unlock()
	return s.db.Close()
}

// Driver returns "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// Ping checks that the database answers; /readyz calls it.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// q rewrites `?` placeholders to `$n` for PostgreSQL.
func (s *Store) q(query string) string {
	if s.driver != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// prepared returns the statement for query, preparing it on first use.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.RLock()
	st, ok := s.stmts[query]
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	// Prepared without holding the lock: preparing waits for a free
	// connection, and holding the lock meanwhile stalled every request
	// that needed a statement while the pool was busy.
	st, err := s.db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if existing, ok := s.stmts[query]; ok { // another goroutine won
		st.Close()
		return existing, nil
	}
	s.stmts[query] = st
	return st, nil
}

// stmt returns the prepared statement for query, bound to tx when set.
//
// Inside a transaction a statement not prepared yet is prepared on the
// transaction's own connection: preparing it on the pool would need a
// second connection, and a pool full of transactions each waiting for one
// would never move.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if tx == nil {
		return s.prepared(ctx, query)
	}
	s.mu.RLock()
	st, ok := s.stmts[query]
	s.mu.RUnlock()
	if ok {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, s.q(query))
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	if tx == nil { // a statement of its own is a write transaction of its own
		unlock, err := s.lockWrites(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	return st.ExecContext(ctx, args...)
}

// lockWrites waits for this process's turn to write to SQLite (a no-op on
// PostgreSQL); call the returned function when the write has committed.
func (s *Store) lockWrites(ctx context.Context) (func(), error) {
	if s.writer == nil {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Store) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, tx, query)
	if err != nil {
		// Let database/sql report the same error through the Row.
		if tx != nil {
			return tx.QueryRowContext(ctx, s.q(query), args...)
		}
		return s.db.QueryRowContext(ctx, s.q(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// migrate applies every embedded migration not yet recorded, each in its own
// transaction. On PostgreSQL an advisory lock keeps replicas starting together
// from racing; SQLite's immediate transactions serialize on their own.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.driver, err)
	}
	defer conn.Close()
	if s.driver == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7262301)"); err != nil {
			return fmt.Errorf("lock for migrations: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7262301)") //nolint:errcheck
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		name := filepath.Base(f)
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		body, _ := migrations.ReadFile(f)
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Checked inside the transaction: on SQLite it holds the write lock,
		// so a second process starting together sees the first one's commit.
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), v).Scan(&n); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if n > 0 {
			_ = tx.Rollback()
			continue
		}
		for _, stmt := range splitStatements(string(body)) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("migration %s: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), v, name, micros(time.Now())); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("record migration %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %s: %w", name, err)
		}
	}
	return nil
}

func splitStatements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sqlText, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, strings.TrimSuffix(st, ";"))
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}
