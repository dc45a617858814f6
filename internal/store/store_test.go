package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// backends are the databases every repository test runs against: SQLite in
// every tier (a file under t.TempDir()), PostgreSQL in the integration tier
// (a fresh database from testenv; skipped under -short).
var backends = []struct {
	driver string
	dsn    func(t *testing.T) string
}{
	{SQLite, func(t *testing.T) string { return filepath.Join(t.TempDir(), "data", "mlportal.db") }},
	{Postgres, func(t *testing.T) string { return testenv.Postgres(t) }},
}

// base is the tests' clock reading; its nanoseconds prove that times are
// kept at microsecond precision.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// us is t as the store keeps it.
func us(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// eachDatabase runs test once per backend, as subtest "sqlite" or "postgres",
// each with an empty database of its own that test opens itself.
func eachDatabase(t *testing.T, test func(t *testing.T, driver, dsn string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.driver, func(t *testing.T) {
			t.Parallel()
			test(t, b.driver, b.dsn(t))
		})
	}
}

// eachBackend runs test once per backend with a migrated, empty store.
func eachBackend(t *testing.T, test func(t *testing.T, s *Store)) {
	t.Helper()
	eachDatabase(t, func(t *testing.T, driver, dsn string) {
		test(t, openStore(t, driver, dsn))
	})
}

// openStore opens (and migrates) the database and closes it when t ends.
func openStore(t *testing.T, driver, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), driver, dsn, Options{MaxOpenConns: 16})
	if err != nil {
		t.Fatalf("Open(%s): %v", driver, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// count returns the result of a COUNT(*) query.
func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(t.Context(), s.q(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// wantKind fails t unless err is of the fault kind want.
func wantKind(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// concurrently calls f(i) for i in [0, n) from n goroutines released together.
func concurrently(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			f(i)
		})
	}
	start.Done()
	done.Wait()
}

func TestMigrationsApplyOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, driver, dsn string) {
		first := openStore(t, driver, dsn)
		if err := first.CreateTeam(t.Context(), newTeam("kept", 1)); err != nil {
			t.Fatalf("CreateTeam: %v", err)
		}
		var applied int64
		if err := first.db.QueryRowContext(t.Context(), `SELECT applied_at FROM schema_migrations WHERE version = 1`).Scan(&applied); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}

		second := openStore(t, driver, dsn)
		if n := count(t, second, `SELECT COUNT(*) FROM schema_migrations`); n != migrationCount(t) {
			t.Errorf("schema_migrations has %d rows after a second Open, want %d", n, migrationCount(t))
		}
		var name string
		var again int64
		if err := second.db.QueryRowContext(t.Context(), `SELECT name, applied_at FROM schema_migrations WHERE version = 1`).Scan(&name, &again); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		if name != "0001_init.sql" || again != applied {
			t.Errorf("migration 1 = (%q, %d), want (0001_init.sql, %d): the second Open reapplied it", name, again, applied)
		}
		if _, err := second.GetTeam(t.Context(), "kept"); err != nil {
			t.Errorf("data written before the second Open: %v", err)
		}
	})
}

// Replicas (or a server and a CLI on one data directory) may start together.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, driver, dsn string) {
		if driver == SQLite {
			// The file exists, as an earlier version leaves it. (Processes racing
			// to create a new file can get SQLITE_BUSY switching it to WAL.)
			createWALFile(t, dsn)
		}
		errs := make([]error, 16)
		concurrently(len(errs), func(i int) {
			s, err := Open(t.Context(), driver, dsn, Options{})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open #%d: %v", i, err)
			}
		}
		s := openStore(t, driver, dsn)
		if n := count(t, s, `SELECT COUNT(*) FROM schema_migrations`); n != migrationCount(t) {
			t.Errorf("schema_migrations has %d rows, want %d", n, migrationCount(t))
		}
	})
}

// createWALFile creates an empty SQLite database in WAL mode.
func createWALFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "PRAGMA journal_mode=WAL"); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

func TestOpenUnknownDriver(t *testing.T) {
	if _, err := Open(t.Context(), "mysql", "x", Options{}); err == nil {
		t.Fatal("Open(mysql) succeeded, want an error")
	}
}

func TestPing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Ping(ctx); err == nil {
			t.Error("Ping with a cancelled context succeeded, want an error")
		}
	})
}

// An error from fn rolls back everything fn wrote.
func TestInTxRollsBackOnError(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		boom := errors.New("boom")
		err := s.inTx(t.Context(), func(tx *sql.Tx) error {
			for _, name := range []string{"first", "second"} {
				if _, err := s.exec(t.Context(), tx, `INSERT INTO teams (name, display_name, created_at, updated_at, created_by, version) VALUES (?, ?, 0, 0, '', 1)`, name, name); err != nil {
					return err
				}
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("inTx = %v, want %v", err, boom)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM teams`); n != 0 {
			t.Errorf("%d teams left behind by a failed transaction, want 0", n)
		}
	})
}

// migrationCount is the number of embedded migrations.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// OwnPool gives PostgreSQL work a pool of its own over the same database;
// on SQLite it is the store itself.
func TestOwnPool(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		own, err := s.OwnPool(2)
		if err != nil {
			t.Fatal(err)
		}
		if s.Driver() == SQLite {
			if own != s {
				t.Fatal("on SQLite OwnPool returned another store")
			}
			return
		}
		defer own.Close()
		if own == s || own.db == s.db || own.changes != s.changes {
			t.Fatal("OwnPool shares the pool, or not the change signal")
		}
		e := newExperiment(t, own, "own-pool")
		if got, err := s.GetExperiment(t.Context(), e.ID); err != nil || got.Name != "own-pool" {
			t.Fatalf("written through the own pool, read through the shared one: %+v, %v", got, err)
		}
	})
}
