package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Environment variables read by this package.
const (
	// EnvBinDir names the directory holding the built binaries and kwok
	// stages; by default build.sh's $CACHE/bin/current.
	EnvBinDir = "MLPORTAL_TESTENV_BIN"
	// EnvCacheDir overrides the cache root ($XDG_CACHE_HOME/mlportal).
	EnvCacheDir = "MLPORTAL_CACHE_DIR"
	// EnvPostgresDSN is the DSN of a PostgreSQL superuser (postgres.sh prints it).
	EnvPostgresDSN = "MLPORTAL_TEST_POSTGRES_DSN"
	// EnvKeep keeps the run directory (logs, etcd data) even when tests pass.
	EnvKeep = "MLPORTAL_TESTENV_KEEP"
	// EnvStockLimits, when set, starts kube-controller-manager and
	// kube-scheduler with their default client rate limits and job-sync
	// workers, as a stock cluster runs them (the test environment raises
	// them otherwise, so that tests do not wait on client-side throttling).
	EnvStockLimits = "MLPORTAL_TESTENV_STOCK_LIMITS"
)

const fixHint = "build the binaries with `make testenv` (or `bash internal/testenv/build.sh`), " +
	"then re-run; see docs/testing.md"

var (
	mainCalled atomic.Bool
	teardownMu sync.Mutex
	teardowns  []func()
)

// onTeardown registers f to run when Main finishes (last registered, first run).
func onTeardown(f func()) {
	teardownMu.Lock()
	defer teardownMu.Unlock()
	teardowns = append(teardowns, f)
}

// Main runs the tests of m and then stops every component this package
// started. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	failed.Store(code != 0)
	teardownMu.Lock()
	fs := teardowns
	teardowns = nil
	teardownMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	os.Exit(code)
}

// skipUnitTier skips t in the unit tier (go test -short).
func skipUnitTier(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("integration tier: %s is not started under -short; run without -short", what)
	}
}

// CacheDir is the cache root: $MLPORTAL_CACHE_DIR, else $XDG_CACHE_HOME/mlportal,
// else ~/.cache/mlportal (the same rule as build.sh).
func CacheDir() (string, error) {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "mlportal"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate cache dir: %w", err)
	}
	return filepath.Join(home, ".cache", "mlportal"), nil
}

// BinDir is the directory with the binaries: $MLPORTAL_TESTENV_BIN, else
// $CACHE/bin/current (the symlink build.sh maintains).
func BinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		return d, nil
	}
	c, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "bin", "current"), nil
}

// newRunDir makes the directory for one test binary's components and prunes
// run directories left behind more than a day ago.
func newRunDir() (string, error) {
	c, err := CacheDir()
	if err != nil {
		return "", err
	}
	runs := filepath.Join(c, "runs")
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return "", fmt.Errorf("create run dir: %w", err)
	}
	if entries, err := os.ReadDir(runs); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
				_ = os.RemoveAll(filepath.Join(runs, e.Name()))
			}
		}
	}
	name := fmt.Sprintf("%s-%d-", time.Now().Format("20060102-150405"), os.Getpid())
	d, err := os.MkdirTemp(runs, name)
	if err != nil {
		return "", fmt.Errorf("create run dir: %w", err)
	}
	return d, nil
}
