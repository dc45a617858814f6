package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/jobs"
)

// Many concurrent writers (the API's submitters and the controller's
// workers) all succeed on SQLite: this process's writes take turns rather
// than polling SQLite's lock, which let some wait past busy_timeout and
// fail with SQLITE_BUSY — HTTP 500 on POST /api/v1/jobs under 64
// concurrent submitters.
func TestConcurrentJobWritesSucceed(t *testing.T) {
	eachDatabase(t, func(t *testing.T, driver, dsn string) {
		s, err := Open(t.Context(), driver, dsn, Options{MaxOpenConns: 128})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		const writers, each = 96, 20
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprintf("job_%03d_%03d", w, i)
					j := costJob(id, "vision", "churn", "a100", jobs.StateQueued, time.Time{}, 0, 0)
					if err := s.CreateJob(t.Context(), j); err != nil {
						errs <- fmt.Errorf("CreateJob %s: %w", id, err)
						continue
					}
					next := j.Clone()
					next.Reason, next.Version = "waiting", j.Version+1
					if err := s.UpdateJob(t.Context(), next, j.Version); err != nil {
						errs <- fmt.Errorf("UpdateJob %s: %w", id, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM jobs`); n != writers*each {
			t.Errorf("%d jobs stored, want %d", n, writers*each)
		}
	})
}
