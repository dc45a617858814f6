package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/idempotency"
)

const retention = 24 * time.Hour

// reserve calls ReserveIdempotencyKey at now, keeping records for retention.
func reserve(t *testing.T, s *Store, key, hash string, now time.Time) *idempotency.Record {
	t.Helper()
	got, err := s.ReserveIdempotencyKey(t.Context(), key, hash, now, now.Add(-retention))
	if err != nil {
		t.Fatalf("ReserveIdempotencyKey(%s): %v", key, err)
	}
	return got
}

func TestIdempotencyKeyLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if got := reserve(t, s, "k1", "hash-a", base); got != nil {
			t.Fatalf("first reserve = %+v, want nil (run the request)", got)
		}

		pending := &idempotency.Record{RequestHash: "hash-a", CreatedAt: us(base)}
		got := reserve(t, s, "k1", "hash-b", base.Add(time.Second))
		if diff := cmp.Diff(pending, got, equateEmpty); diff != "" {
			t.Errorf("reserve while pending (-want +got):\n%s", diff)
		}

		resp := idempotency.Response{Status: 201, ContentType: "application/json", ETag: `"3"`,
			Location: "/api/v1/teams/vision", Body: []byte(`{"name":"vision","note":"ünïcode"}`)}
		if err := s.CompleteIdempotencyKey(ctx, "k1", resp); err != nil {
			t.Fatalf("CompleteIdempotencyKey: %v", err)
		}
		done := &idempotency.Record{RequestHash: "hash-a", Done: true, Response: resp, CreatedAt: us(base)}
		got = reserve(t, s, "k1", "hash-a", base.Add(time.Hour))
		if diff := cmp.Diff(done, got); diff != "" {
			t.Errorf("reserve after complete (-want +got):\n%s", diff)
		}

		// At exactly the end of retention the record still counts.
		if got := reserve(t, s, "k1", "hash-c", base.Add(retention)); got == nil || !got.Done {
			t.Errorf("reserve at the retention boundary = %+v, want the done record", got)
		}
		// Past it, the record counts as absent and is replaced.
		later := base.Add(retention + time.Microsecond)
		if got := reserve(t, s, "k1", "hash-c", later); got != nil {
			t.Fatalf("reserve past retention = %+v, want nil", got)
		}
		replaced := &idempotency.Record{RequestHash: "hash-c", CreatedAt: us(later)}
		if diff := cmp.Diff(replaced, reserve(t, s, "k1", "hash-c", later), equateEmpty); diff != "" {
			t.Errorf("reserve after replacement (-want +got):\n%s", diff)
		}

		if err := s.ReleaseIdempotencyKey(ctx, "k1"); err != nil {
			t.Fatalf("ReleaseIdempotencyKey: %v", err)
		}
		if got := reserve(t, s, "k1", "hash-d", later); got != nil {
			t.Errorf("reserve after release = %+v, want nil", got)
		}
		if err := s.ReleaseIdempotencyKey(ctx, "never-reserved"); err != nil {
			t.Errorf("ReleaseIdempotencyKey(unknown): %v", err)
		}
	})
}

func TestPurgeIdempotencyKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		for i := range 5 {
			reserve(t, s, fmt.Sprintf("k%d", i), "h", base.Add(time.Duration(i)*time.Hour))
		}
		n, err := s.PurgeIdempotencyKeys(t.Context(), base.Add(3*time.Hour))
		if err != nil {
			t.Fatalf("PurgeIdempotencyKeys: %v", err)
		}
		if n != 3 {
			t.Errorf("purged %d keys, want 3 (created before the cutoff)", n)
		}
		// An old notBefore so that only purging can make a key absent.
		for i, wantKept := range []bool{false, false, false, true, true} {
			key := fmt.Sprintf("k%d", i)
			got, err := s.ReserveIdempotencyKey(t.Context(), key, "h2", base, base.Add(-retention))
			if err != nil {
				t.Fatalf("ReserveIdempotencyKey(%s): %v", key, err)
			}
			if kept := got != nil; kept != wantKept {
				t.Errorf("%s kept = %v, want %v", key, kept, wantKept)
			}
		}
	})
}

// Requests racing with one new key: exactly one runs; the others get its
// pending record (with its hash, so a different body is told the key is reused).
func TestReserveIdempotencyKeyConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		for round := range 5 {
			key := fmt.Sprintf("race-%d", round)
			got := make([]*idempotency.Record, 8)
			errs := make([]error, len(got))
			concurrently(len(got), func(i int) {
				got[i], errs[i] = s.ReserveIdempotencyKey(t.Context(), key, fmt.Sprintf("body-%d", i), base, base.Add(-retention))
			})
			winner := -1
			for i := range got {
				if errs[i] != nil {
					t.Fatalf("%s: reserve #%d: %v", key, i, errs[i])
				}
				if got[i] == nil && winner >= 0 {
					t.Fatalf("%s: reserves #%d and #%d both won", key, winner, i)
				}
				if got[i] == nil {
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("%s: no reserve won", key)
			}
			want := &idempotency.Record{RequestHash: fmt.Sprintf("body-%d", winner), CreatedAt: us(base)}
			for i, r := range got {
				if diff := cmp.Diff(want, r, equateEmpty); i != winner && diff != "" {
					t.Errorf("%s: reserve #%d lost to #%d (-want +got):\n%s", key, i, winner, diff)
				}
			}
		}
	})
}
