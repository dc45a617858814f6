package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

const postgresHint = "start PostgreSQL with `make postgres` (bash internal/testenv/postgres.sh) and export " +
	EnvPostgresDSN + " as it prints (the Makefile's TESTENV_ENV does this); see docs/testing.md"

// Postgres creates a fresh, empty database for t on the server named by
// MLPORTAL_TEST_POSTGRES_DSN and returns its DSN. The database is dropped
// (with any open connections) when the test ends. It skips under -short and
// fails t when the server is not configured or unreachable.
func Postgres(t testing.TB) string {
	t.Helper()
	skipUnitTier(t, "PostgreSQL")
	admin := os.Getenv(EnvPostgresDSN)
	if admin == "" {
		t.Fatalf("testenv: %s is not set; %s", EnvPostgresDSN, postgresHint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("testenv: open %s: %v; %s", EnvPostgresDSN, err, postgresHint)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("testenv: PostgreSQL at %s is unreachable: %v; %s", redact(admin), err, postgresHint)
	}

	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(base) > 40 {
		base = base[:40]
	}
	name := fmt.Sprintf("t_%s_%s", base, hex.EncodeToString(suffix))
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dsn
}

// withDatabase returns dsn (URL or keyword/value form) pointing at database name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvPostgresDSN, err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// Keyword/value form: a later dbname overrides an earlier one.
	return dsn + " dbname=" + name, nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// redact hides the password of a URL DSN for error messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return "(" + EnvPostgresDSN + ")"
}
