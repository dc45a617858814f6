package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/token"
)

func newToken(id, subject string) token.Record {
	return token.Record{
		ID:        id,
		Name:      "ci " + id,
		Subject:   subject,
		Team:      "ml-research",
		Verbs:     []identity.Verb{identity.VerbRead, identity.VerbWrite},
		CreatedAt: base,
		ExpiresAt: base.Add(30 * 24 * time.Hour),
	}
}

func storedToken(r token.Record) token.Record {
	r.CreatedAt, r.ExpiresAt = us(r.CreatedAt), us(r.ExpiresAt)
	if !r.RevokedAt.IsZero() {
		r.RevokedAt = us(r.RevokedAt)
	}
	return r
}

func TestTokens(t *testing.T) {
	const alice, bob = "user:default/alice", "user:default/bob"
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		var all []token.Record // by id
		for i := range 7 {
			r := newToken(fmt.Sprintf("tok_%02d", i), alice)
			if i%3 == 2 {
				r.Subject = bob
			}
			if i == 4 {
				r.Team, r.Verbs = "", []identity.Verb{identity.VerbAdmin}
			}
			all = append(all, r)
		}
		for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
			if err := s.CreateToken(ctx, all[i]); err != nil {
				t.Fatalf("CreateToken(%s): %v", all[i].ID, err)
			}
		}
		revokedAt := base.Add(time.Hour + 1234)
		if err := s.RevokeToken(ctx, "tok_01", revokedAt); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		all[1].RevokedAt = revokedAt
		for i := range all {
			all[i] = storedToken(all[i])
		}

		got, err := s.GetToken(ctx, "tok_01")
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if diff := cmp.Diff(all[1], got); diff != "" {
			t.Errorf("GetToken (-want +got):\n%s", diff)
		}
		_, err = s.GetToken(ctx, "tok_missing")
		wantKind(t, err, fault.ErrNotFound)

		pick := func(ids ...int) []token.Record {
			out := []token.Record{}
			for _, i := range ids {
				out = append(out, all[i])
			}
			return out
		}
		for _, tc := range []struct {
			name           string
			subject, after string
			includeRevoked bool
			limit          int
			want           []token.Record
		}{
			{"everyone", "", "", true, 100, all},
			{"everyone valid", "", "", false, 100, pick(0, 2, 3, 4, 5, 6)},
			{"alice valid", alice, "", false, 100, pick(0, 3, 4, 6)},
			{"alice with revoked", alice, "", true, 100, pick(0, 1, 3, 4, 6)},
			{"alice first page", alice, "", true, 2, pick(0, 1)},
			{"alice after cursor", alice, "tok_01", true, 2, pick(3, 4)},
			{"alice last page", alice, "tok_04", true, 2, pick(6)},
			{"alice past the end", alice, "tok_06", true, 2, pick()},
			{"bob", bob, "", false, 100, pick(2, 5)},
			{"nobody", "user:default/carol", "", true, 100, pick()},
		} {
			got, err := s.ListTokens(ctx, tc.subject, tc.includeRevoked, tc.after, tc.limit)
			if err != nil {
				t.Fatalf("%s: ListTokens: %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: ListTokens (-want +got):\n%s", tc.name, diff)
			}
		}
	})
}

func TestRevokeToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if err := s.CreateToken(ctx, newToken("tok_a", "user:default/alice")); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		first := base.Add(time.Minute)
		for i, at := range []time.Time{first, first.Add(time.Hour)} {
			if err := s.RevokeToken(ctx, "tok_a", at); err != nil {
				t.Fatalf("RevokeToken #%d: %v", i+1, err)
			}
		}
		got, err := s.GetToken(ctx, "tok_a")
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if !got.RevokedAt.Equal(us(first)) {
			t.Errorf("RevokedAt = %v, want the first revocation's %v", got.RevokedAt, us(first))
		}
		wantKind(t, s.RevokeToken(ctx, "tok_missing", first), fault.ErrNotFound)
	})
}

// keyGen returns a generator of distinct random keys that counts its calls.
func keyGen(calls *atomic.Int32) func() (string, []byte, error) {
	return func() (string, []byte, error) {
		n := calls.Add(1)
		der := make([]byte, 48)
		_, _ = rand.Read(der)
		return fmt.Sprintf("key-%d", n), der, nil
	}
}

func TestSigningKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		var calls atomic.Int32
		id, der, err := s.SigningKey(ctx, keyGen(&calls))
		if err != nil {
			t.Fatalf("SigningKey: %v", err)
		}
		if id != "key-1" || len(der) != 48 {
			t.Fatalf("SigningKey = %q, %d bytes; want the generated key-1, 48 bytes", id, len(der))
		}
		id2, der2, err := s.SigningKey(ctx, keyGen(&calls))
		if err != nil {
			t.Fatalf("SigningKey again: %v", err)
		}
		if id2 != id || !bytes.Equal(der2, der) || calls.Load() != 1 {
			t.Errorf("second SigningKey = %q (generated %d times), want the stored %q", id2, calls.Load(), id)
		}

		failing := func() (string, []byte, error) { return "", nil, errors.New("no entropy") }
		if _, _, err := s.SigningKey(ctx, failing); err != nil {
			t.Errorf("SigningKey with a stored key called gen: %v", err)
		}
	})
}

// Replicas starting together all end up with the key one of them stored.
func TestSigningKeyConcurrentFirstUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		var calls atomic.Int32
		type key struct {
			id  string
			der []byte
			err error
		}
		keys := make([]key, 8)
		concurrently(len(keys), func(i int) {
			k := &keys[i]
			k.id, k.der, k.err = s.SigningKey(t.Context(), keyGen(&calls))
		})
		for i, k := range keys {
			if k.err != nil {
				t.Fatalf("SigningKey #%d: %v", i, k.err)
			}
			if k.id != keys[0].id || !bytes.Equal(k.der, keys[0].der) {
				t.Errorf("SigningKey #%d = %q, #0 = %q; want one key for all", i, k.id, keys[0].id)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM signing_keys`); n != 1 {
			t.Errorf("signing_keys has %d rows, want 1", n)
		}
	})
}

// CreateTokens stores what CreateToken would, for more rows than one
// INSERT chunk (SQLite) and as one statement (PostgreSQL).
func TestCreateTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		var recs []token.Record
		for i := range 123 {
			recs = append(recs, newToken(fmt.Sprintf("tok_b%03d", i), fmt.Sprintf("job:%d", i)))
		}
		if err := s.CreateTokens(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for _, want := range []token.Record{recs[0], recs[99], recs[122]} {
			got, err := s.GetToken(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(storedToken(want), got); diff != "" {
				t.Errorf("token %s (-want +got):\n%s", want.ID, diff)
			}
		}
	})
}
