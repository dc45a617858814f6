package token_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
	"github.com/mlportal/mlportal/internal/token"
)

type fixture struct {
	st     *store.Store
	clk    *clock.Fake
	svc    *token.Service
	bsPriv ed25519.PrivateKey
	cfg    token.Config
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	f := &fixture{st: st, clk: clock.NewFake(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)), bsPriv: priv}
	f.cfg = token.Config{Admins: []string{"group:default/platform-admins"}, DefaultTTL: 24 * time.Hour, MaxTTL: 90 * 24 * time.Hour,
		BackstageKeys: []ed25519.PublicKey{pub}, BackstageIssuer: "backstage", BackstageAudience: "mlportal",
		BackstageMaxAge: 5 * time.Minute, AdminToken: "root-secret"}
	f.svc = f.newService(t)
	teams := team.NewService(st, f.clk)
	admin := identity.Principal{Subject: "admin", Kind: identity.KindAdminToken, Admin: true}
	if _, err := teams.Create(ctx, admin, "ml-research", team.Spec{BackstageGroup: "group:default/ml-research",
		Members: []identity.Member{{Subject: "user:default/alice", Role: identity.RoleMaintainer}}}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) newService(t testing.TB) *token.Service {
	s, err := token.New(context.Background(), f.cfg, f.st, f.st, team.NewService(f.st, f.clk), f.clk)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) backstage(t testing.TB, claims jwt.MapClaims) string {
	now := f.clk.Now()
	base := jwt.MapClaims{"iss": "backstage", "aud": "mlportal", "sub": "user:default/alice", "kind": "user",
		"ent": []string{"user:default/alice", "group:default/ml-research"}, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, base).SignedString(f.bsPriv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantUnauthenticated(t *testing.T, err error, contains string) {
	t.Helper()
	if !errors.Is(err, fault.ErrUnauthenticated) {
		t.Fatalf("err = %v, want unauthenticated", err)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("err = %q, want it to mention %q", err, contains)
	}
}

func TestBackstageTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, err := f.svc.Authenticate(ctx, f.backstage(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "user:default/alice" || p.Kind != identity.KindBackstageUser || p.Admin || len(p.Groups) != 2 {
		t.Fatalf("principal %+v", p)
	}
	p, _ = f.svc.Authenticate(ctx, f.backstage(t, jwt.MapClaims{"sub": "user:default/pat", "ent": []string{"group:default/platform-admins"}}))
	if !p.Admin {
		t.Fatal("a member of an admin group is not admin")
	}
	p, _ = f.svc.Authenticate(ctx, f.backstage(t, jwt.MapClaims{"sub": "plugin:scaffolder", "kind": "service", "ent": nil}))
	if p.Kind != identity.KindBackstageService || p.Subject != "plugin:scaffolder" {
		t.Fatalf("service principal %+v", p)
	}
	now := f.clk.Now()
	for name, c := range map[string]struct {
		claims  jwt.MapClaims
		mention string
	}{
		"wrong audience":   {jwt.MapClaims{"aud": "someone-else"}, "audience"},
		"lives too long":   {jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}, "longer than"},
		"expired":          {jwt.MapClaims{"iat": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(-9 * time.Minute).Unix()}, "expired"},
		"no expiry":        {jwt.MapClaims{"exp": nil}, "exp"},
		"unknown issuer":   {jwt.MapClaims{"iss": "evil"}, "issuer"},
		"issued in future": {jwt.MapClaims{"iat": now.Add(time.Hour).Unix(), "exp": now.Add(time.Hour + time.Minute).Unix()}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Authenticate(ctx, f.backstage(t, c.claims))
			wantUnauthenticated(t, err, c.mention)
		})
	}
	// Signed by another key.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "backstage", "aud": "mlportal", "sub": "user:default/alice",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}).SignedString(other)
	_, err = f.svc.Authenticate(ctx, forged)
	wantUnauthenticated(t, err, "")
	// An HMAC token keyed with the public key (algorithm confusion) is refused.
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "backstage", "aud": "mlportal", "sub": "user:default/alice",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}).SignedString([]byte(f.cfg.BackstageKeys[0]))
	_, err = f.svc.Authenticate(ctx, hs)
	wantUnauthenticated(t, err, "signing method")
}

func TestIssuedTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice, err := f.svc.Authenticate(ctx, f.backstage(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	rec, secret, err := f.svc.Issue(ctx, alice, token.IssueRequest{Name: "laptop", Team: "ml-research",
		Verbs: []identity.Verb{identity.VerbRead, identity.VerbManage}})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.ExpiresAt.Equal(f.clk.Now().Add(24 * time.Hour)) {
		t.Fatalf("default TTL not applied: %v", rec.ExpiresAt)
	}
	p, err := f.svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "user:default/alice" || p.TokenID != rec.ID || p.TokenTeam != "ml-research" || p.Admin {
		t.Fatalf("token principal %+v", p)
	}
	// The key survives a restart: a new service on the same store accepts the token.
	if _, err := f.newService(t).Authenticate(ctx, secret); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	// A token cannot mint a longer-lived or wider token.
	child, _, err := f.svc.Issue(ctx, p, token.IssueRequest{Name: "child", Team: "ml-research", Verbs: []identity.Verb{identity.VerbRead}, TTL: 60 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if child.ExpiresAt.After(rec.ExpiresAt) {
		t.Fatalf("child outlives parent: %v > %v", child.ExpiresAt, rec.ExpiresAt)
	}
	if _, _, err := f.svc.Issue(ctx, p, token.IssueRequest{Name: "x", Team: "ml-research", Verbs: []identity.Verb{identity.VerbWrite}}); !errors.Is(err, fault.ErrPermissionDenied) {
		t.Fatalf("widening err = %v", err)
	}
	if _, _, err := f.svc.Issue(ctx, p, token.IssueRequest{Name: "x", Team: "ml-research", Verbs: []identity.Verb{identity.VerbRead}, TTL: 1000 * 24 * time.Hour}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("ttl over max err = %v", err)
	}
	// Revocation takes effect at once, even though the signature is cached.
	if err := f.svc.Revoke(ctx, alice, rec.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Authenticate(ctx, secret)
	wantUnauthenticated(t, err, "revoked")
	// Expiry.
	_, s2, _ := f.svc.Issue(ctx, alice, token.IssueRequest{Name: "short", Team: "ml-research", Verbs: []identity.Verb{identity.VerbRead}, TTL: time.Hour})
	f.clk.Advance(2 * time.Hour)
	_, err = f.svc.Authenticate(ctx, s2)
	wantUnauthenticated(t, err, "expired")
	// Tampering with the payload breaks the signature.
	parts := strings.Split(s2, ".")
	parts[1] = strings.ToUpper(parts[1][:1]) + parts[1][1:]
	_, err = f.svc.Authenticate(ctx, strings.Join(parts, "."))
	wantUnauthenticated(t, err, "")
}

func TestAdminToken(t *testing.T) {
	f := newFixture(t)
	p, err := f.svc.Authenticate(context.Background(), "root-secret")
	if err != nil || !p.Admin || p.Kind != identity.KindAdminToken {
		t.Fatalf("admin token: %+v %v", p, err)
	}
	_, err = f.svc.Authenticate(context.Background(), "root-secreT")
	wantUnauthenticated(t, err, "")
	_, err = f.svc.Authenticate(context.Background(), "")
	wantUnauthenticated(t, err, "no credentials")
}

// FuzzAuthenticate: no input makes the verifier panic or accept a credential
// it did not issue.
func FuzzAuthenticate(f *testing.F) {
	fx := newFixture(f)
	_, good, err := fx.svc.Issue(context.Background(), identity.Principal{Subject: "admin", Admin: true},
		token.IssueRequest{Name: "seed", Verbs: []identity.Verb{identity.VerbRead}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "a.b.c", good, good + "x", fx.backstage(f, nil), "eyJhbGciOiJub25lIn0.e30.", strings.Repeat(".", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := fx.svc.Authenticate(context.Background(), s)
		if err != nil {
			if !errors.Is(err, fault.ErrUnauthenticated) {
				t.Fatalf("error of the wrong kind for %q: %v", s, err)
			}
			return
		}
		if s != good && s != "root-secret" && !strings.HasPrefix(s, "eyJ") {
			t.Fatalf("accepted %q as %+v", s, p)
		}
	})
}

// IssueAll issues what Issue would, each token under its own issuer, and
// refuses the whole batch when one grant is not allowed.
func TestIssueAll(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	job := func(id string) token.Issuance {
		return token.Issuance{By: identity.Principal{Subject: "job:" + id, Kind: identity.KindAdminToken, Admin: true},
			Request: token.IssueRequest{Name: "job " + id, Team: "ml-research", Verbs: []identity.Verb{identity.VerbRead, identity.VerbWrite}, TTL: 2 * time.Hour}}
	}
	secrets, err := f.svc.IssueAll(ctx, []token.Issuance{job("a"), job("b")})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"a", "b"} {
		p, err := f.svc.Authenticate(ctx, secrets[i])
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if p.Subject != "job:"+id || p.TokenTeam != "ml-research" || !p.ExpiresAt.Equal(f.clk.Now().Add(2*time.Hour)) {
			t.Errorf("token %d principal %+v", i, p)
		}
		if recs, _, err := f.svc.List(ctx, identity.Principal{Subject: "admin", Kind: identity.KindAdminToken, Admin: true}, "job:"+id, false, pagination.Page{Limit: 10}); err != nil || len(recs) != 1 {
			t.Errorf("records of job:%s: %d, %v", id, len(recs), err)
		}
	}
	bob := identity.Principal{Subject: "user:default/bob", Kind: identity.KindBackstageUser}
	bad := token.Issuance{By: bob, Request: token.IssueRequest{Name: "x", Team: "ml-research", Verbs: []identity.Verb{identity.VerbRead}}}
	if _, err := f.svc.IssueAll(ctx, []token.Issuance{job("c"), bad}); !errors.Is(err, fault.ErrPermissionDenied) {
		t.Fatalf("a batch with a grant bob may not make: %v, want permission denied", err)
	}
	if recs, _, _ := f.svc.List(ctx, identity.Principal{Subject: "admin", Kind: identity.KindAdminToken, Admin: true}, "job:c", false, pagination.Page{Limit: 10}); len(recs) != 0 {
		t.Errorf("a refused batch recorded %d tokens", len(recs))
	}
}
