package store

import (
	"fmt"
	"slices"
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
		conns := 128
		if driver == Postgres {
			// The test server's 100 connections are shared with the other
			// packages' tests running at the same time; 32 still has every
			// writer waiting on another's transaction.
			conns = 32
		}
		s, err := Open(t.Context(), driver, dsn, Options{MaxOpenConns: conns})
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

// A scheduling cycle reads which active jobs changed (ids and versions),
// fetches only those, and saves its decisions in one transaction in which
// a job changed meanwhile is skipped, not overwritten.
func TestCycleReadsChangedJobsAndSavesInOneTransaction(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		var all []jobs.Job
		for i := range 600 { // more than one GetJobs batch
			j := costJob(fmt.Sprintf("job_%04d", i), "vision", "churn", "a100", jobs.StateQueued, time.Time{}, 0, 0)
			if err := s.CreateJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			all = append(all, j)
		}
		ended := all[0].Clone()
		ended.State, ended.FinishedAt, ended.Version = jobs.StateSucceeded, time.Now().UTC(), 2
		if err := s.UpdateJob(ctx, ended, 1); err != nil {
			t.Fatal(err)
		}

		versions, err := s.ActiveJobVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != 599 || versions["job_0001"] != 1 {
			t.Fatalf("%d active versions (job_0001 at %d), want 599 at version 1", len(versions), versions["job_0001"])
		}
		if _, ok := versions["job_0000"]; ok {
			t.Error("an ended job is listed as active")
		}
		ids := []string{"job_0003", "job_0599", "no-such-job"}
		for i := 10; i < 530; i++ {
			ids = append(ids, all[i].ID)
		}
		got, err := s.GetJobs(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids)-1 {
			t.Errorf("GetJobs returned %d jobs, want %d (every id that exists, once)", len(got), len(ids)-1)
		}

		// One of three changed meanwhile: it is skipped, the others saved.
		ups := make([]jobs.Update, 3)
		for i, j := range all[1:4] {
			next := j.Clone()
			next.State, next.Reason, next.Version = jobs.StateStarting, "starting on n1", j.Version+1
			ups[i] = jobs.Update{Job: next, IfVersion: j.Version}
		}
		ups[1].IfVersion = 7
		recorded, err := s.UpdateJobs(ctx, ups)
		if err != nil {
			t.Fatal(err)
		}
		if len(recorded) != 3 || !recorded[0] || recorded[1] || !recorded[2] {
			t.Errorf("recorded %v, want [true false true]", recorded)
		}
		for i, want := range []jobs.State{jobs.StateStarting, jobs.StateQueued, jobs.StateStarting} {
			j, err := s.GetJob(ctx, all[1+i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != want {
				t.Errorf("%s is %s, want %s", j.ID, j.State, want)
			}
		}

		// More than one statement's worth (PostgreSQL updates in bulk):
		// every field round-trips, and a job updated twice in one batch
		// gets both updates in order, as one statement per job would.
		ups = nil
		var want []jobs.Job
		for i, j := range all[10:260] {
			next := j.Clone()
			next.State, next.Reason, next.Version = jobs.StateSucceeded, fmt.Sprintf("done %d", i), j.Version+1
			next.FinishedAt, next.GPUSeconds, next.Cost, next.Pool, next.GPUType = time.UnixMicro(int64(1_800_000_000_000_000+i)).UTC(), float64(i)*1.5, float64(i)/4, "spot", "a100"
			next.UpdatedAt = next.FinishedAt
			ups = append(ups, jobs.Update{Job: next, IfVersion: j.Version})
			want = append(want, next)
		}
		twice := want[5].Clone()
		twice.Reason, twice.Version = "done twice", want[5].Version+1
		ups = append(ups, jobs.Update{Job: twice, IfVersion: want[5].Version})
		want[5] = twice
		recorded, err = s.UpdateJobs(ctx, ups)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(slices.DeleteFunc(slices.Clone(recorded), func(ok bool) bool { return ok })); n != 0 || len(recorded) != len(ups) {
			t.Fatalf("%d of %d updates not recorded", n, len(recorded))
		}
		for _, w := range want {
			j, err := s.GetJob(ctx, w.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != w.State || j.Reason != w.Reason || j.Version != w.Version || !j.FinishedAt.Equal(w.FinishedAt) ||
				j.GPUSeconds != w.GPUSeconds || j.Cost != w.Cost || j.Pool != w.Pool || j.GPUType != w.GPUType {
				t.Fatalf("job %s stored as %s %q v%d finished %s %.1f GPU-s cost %.2f %s/%s, want %s %q v%d finished %s %.1f %.2f %s/%s",
					w.ID, j.State, j.Reason, j.Version, j.FinishedAt, j.GPUSeconds, j.Cost, j.Pool, j.GPUType,
					w.State, w.Reason, w.Version, w.FinishedAt, w.GPUSeconds, w.Cost, w.Pool, w.GPUType)
			}
		}
	})
}
