package token

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
)

// Issuer and audience of mlportal-issued tokens.
const (
	Issuer   = "mlportal"
	Audience = "mlportal"
)

// Record is an issued token's metadata; the secret is never stored.
type Record struct {
	ID        string
	Name      string
	Subject   string
	Team      string
	Verbs     []identity.Verb
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero while valid
}

// Repository persists token records.
type Repository interface {
	CreateToken(ctx context.Context, r Record) error
	GetToken(ctx context.Context, id string) (Record, error)
	ListTokens(ctx context.Context, subject string, includeRevoked bool, after string, limit int) ([]Record, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
}

// KeyStore loads the signing key, creating it with gen on first use. It must
// be safe against two replicas creating one at the same time.
type KeyStore interface {
	SigningKey(ctx context.Context, gen func() (id string, pkcs8 []byte, err error)) (id string, pkcs8 []byte, err error)
}

// Memberships tells who belongs to a team, to bound the grants of a new token.
type Memberships interface {
	Membership(ctx context.Context, team string) (identity.Membership, error)
}

// Config is what the Service needs from configuration.
type Config struct {
	Admins            []string
	DefaultTTL        time.Duration
	MaxTTL            time.Duration
	BackstageKeys     []ed25519.PublicKey
	BackstageIssuer   string
	BackstageAudience string
	BackstageMaxAge   time.Duration
	// AdminToken is the local-mode admin secret ("" disables it).
	AdminToken string
}

// Service authenticates credentials and issues tokens.
type Service struct {
	cfg       Config
	repo      Repository
	members   Memberships
	clock     clock.Clock
	keyID     string
	priv      ed25519.PrivateKey
	pub       ed25519.PublicKey
	adminHash [32]byte

	mu       sync.Mutex
	verified map[string]verifiedClaims // token string → claims whose signature checked out
	live     map[string]time.Time      // token id → when the store last said it was not revoked
}

// RevocationRecheck bounds how long a revocation made on another replica
// takes to reach this one; on this replica it is immediate.
const RevocationRecheck = time.Second

type verifiedClaims struct {
	p   identity.Principal
	exp time.Time
}

const maxCache = 10000

// New returns a Service, loading or creating the signing key.
func New(ctx context.Context, cfg Config, repo Repository, keys KeyStore, members Memberships, clk clock.Clock) (*Service, error) {
	id, pkcs8, err := keys.SigningKey(ctx, generateKey)
	if err != nil {
		return nil, fmt.Errorf("load token signing key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("parse token signing key %s: %w", id, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("token signing key %s is %T, want Ed25519", id, k)
	}
	s := &Service{cfg: cfg, repo: repo, members: members, clock: clk, keyID: id, priv: priv,
		pub: priv.Public().(ed25519.PublicKey), verified: map[string]verifiedClaims{}, live: map[string]time.Time{}}
	if cfg.AdminToken != "" {
		s.adminHash = sha256.Sum256([]byte(cfg.AdminToken))
	}
	return s, nil
}

func generateKey() (string, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", nil, err
	}
	return "k-" + randomID(8), der, nil
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func randomID(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return b32.EncodeToString(b)
}

// NewAdminToken returns a fresh random admin secret.
func NewAdminToken() string { return "mlp_admin_" + randomID(24) }

type claims struct {
	jwt.RegisteredClaims
	Kind   string   `json:"kind,omitempty"`
	Groups []string `json:"ent,omitempty"`
	Team   string   `json:"team,omitempty"`
	Verbs  []string `json:"verbs,omitempty"`
}

func unauthenticated(format string, args ...any) error {
	return fault.New(fault.ErrUnauthenticated, format, args...)
}

// Authenticate turns a bearer credential into a principal.
func (s *Service) Authenticate(ctx context.Context, bearer string) (identity.Principal, error) {
	if bearer == "" {
		return identity.Principal{}, unauthenticated("no credentials: send Authorization: Bearer <token> (create one with `mlportal token create`, or call through Backstage)")
	}
	if s.cfg.AdminToken != "" {
		if h := sha256.Sum256([]byte(bearer)); subtle.ConstantTimeCompare(h[:], s.adminHash[:]) == 1 {
			return identity.Principal{Subject: "admin", Kind: identity.KindAdminToken, Admin: true}, nil
		}
	}
	if strings.HasPrefix(bearer, "mlp_admin_") {
		return identity.Principal{}, unauthenticated("the admin token is not valid for this server")
	}
	now := s.clock.Now()
	p, err := s.verifyCached(bearer, now)
	if err != nil {
		return identity.Principal{}, err
	}
	if p.Kind == identity.KindToken {
		if err := s.checkNotRevoked(ctx, p.TokenID, now); err != nil {
			return identity.Principal{}, err
		}
	}
	return p, nil
}

// checkNotRevoked asks the store whether the token was revoked, at most once
// per RevocationRecheck per token.
func (s *Service) checkNotRevoked(ctx context.Context, id string, now time.Time) error {
	s.mu.Lock()
	last, ok := s.live[id]
	s.mu.Unlock()
	if ok && now.Sub(last) < RevocationRecheck && !now.Before(last) {
		return nil
	}
	rec, err := s.repo.GetToken(ctx, id)
	if errors.Is(err, fault.ErrNotFound) {
		return unauthenticated("the token was deleted; create a new one with `mlportal token create`")
	}
	if err != nil {
		return fmt.Errorf("check token %s: %w", id, err)
	}
	if !rec.RevokedAt.IsZero() {
		return unauthenticated("the token %s was revoked; create a new one with `mlportal token create`", rec.ID)
	}
	s.mu.Lock()
	if len(s.live) >= maxCache {
		clear(s.live)
	}
	s.live[id] = now
	s.mu.Unlock()
	return nil
}

func (s *Service) verifyCached(raw string, now time.Time) (identity.Principal, error) {
	s.mu.Lock()
	v, ok := s.verified[raw]
	s.mu.Unlock()
	if ok && now.Before(v.exp) {
		return v.p, nil
	}
	p, exp, err := s.verify(raw, now)
	if err != nil {
		return identity.Principal{}, err
	}
	s.mu.Lock()
	if len(s.verified) >= maxCache {
		clear(s.verified)
	}
	s.verified[raw] = verifiedClaims{p: p, exp: exp}
	s.mu.Unlock()
	return p, nil
}

func (s *Service) verify(raw string, now time.Time) (identity.Principal, time.Time, error) {
	var c claims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second), jwt.WithTimeFunc(func() time.Time { return now }))
	_, err := parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		switch c.Issuer {
		case Issuer:
			return s.pub, nil
		case s.cfg.BackstageIssuer:
			if len(s.cfg.BackstageKeys) == 0 {
				return nil, errors.New("Backstage identities are not enabled: set mlportal.auth.backstage.publicKeys")
			}
			vks := make([]jwt.VerificationKey, len(s.cfg.BackstageKeys))
			for i, k := range s.cfg.BackstageKeys {
				vks[i] = k
			}
			return jwt.VerificationKeySet{Keys: vks}, nil
		}
		return nil, fmt.Errorf("unknown issuer %q", c.Issuer)
	})
	if err != nil {
		return identity.Principal{}, time.Time{}, unauthenticated("the bearer token is not valid: %v", err)
	}
	exp := c.ExpiresAt.Time
	switch c.Issuer {
	case Issuer:
		if !slices.Contains(c.Audience, Audience) || c.ID == "" {
			return identity.Principal{}, time.Time{}, unauthenticated("the token is not an mlportal API token")
		}
		p := identity.Principal{Subject: c.Subject, Kind: identity.KindToken, TokenID: c.ID, TokenTeam: c.Team, ExpiresAt: exp}
		for _, v := range c.Verbs {
			if vb, err := identity.ParseVerb(v); err == nil {
				p.TokenVerbs = append(p.TokenVerbs, vb)
			}
		}
		p.Admin = slices.Contains(p.TokenVerbs, identity.VerbAdmin)
		return p, exp, nil
	default:
		if !slices.Contains(c.Audience, s.cfg.BackstageAudience) {
			return identity.Principal{}, time.Time{}, unauthenticated("the Backstage token is for audience %v, not %q", c.Audience, s.cfg.BackstageAudience)
		}
		if c.IssuedAt == nil || exp.Sub(c.IssuedAt.Time) > s.cfg.BackstageMaxAge {
			return identity.Principal{}, time.Time{}, unauthenticated("the Backstage token lives longer than %s; the plugin mints 60-second tokens", s.cfg.BackstageMaxAge)
		}
		if !identity.ValidEntityRef(c.Subject) && !strings.Contains(c.Subject, ":") {
			return identity.Principal{}, time.Time{}, unauthenticated("the Backstage token's subject %q is not an entity ref", c.Subject)
		}
		p := identity.Principal{Subject: c.Subject, Groups: c.Groups, ExpiresAt: exp, Kind: identity.KindBackstageUser}
		if c.Kind == "service" {
			p.Kind, p.Groups = identity.KindBackstageService, nil
		}
		p.Admin = identity.IsAdmin(s.cfg.Admins, p.Subject, p.Groups)
		return p, exp, nil
	}
}

// IssueRequest asks for a new token.
type IssueRequest struct {
	Name  string
	Team  string
	Verbs []identity.Verb
	TTL   time.Duration // 0 = default
}

// BatchRepository records many tokens with one commit; a Repository may
// offer it for IssueAll.
type BatchRepository interface {
	CreateTokens(ctx context.Context, rs []Record) error
}

// Issue creates a token that grants no more than the caller has and expires
// no later than the caller's own credential.
func (s *Service) Issue(ctx context.Context, p identity.Principal, req IssueRequest) (Record, string, error) {
	rec, signed, err := s.sign(ctx, p, req)
	if err != nil {
		return Record{}, "", err
	}
	if err := s.repo.CreateToken(ctx, rec); err != nil {
		return Record{}, "", err
	}
	return rec, signed, nil
}

// Issuance is one token to issue: Issue's arguments.
type Issuance struct {
	By      identity.Principal
	Request IssueRequest
}

// IssueAll issues a token per issuance, as Issue does, and records them
// together (with one commit when the repository is a BatchRepository): the
// tokens of the jobs a scheduling cycle admitted. signed[i] is is[i]'s; on
// an error none is valid.
func (s *Service) IssueAll(ctx context.Context, is []Issuance) (signed []string, err error) {
	recs := make([]Record, len(is))
	signed = make([]string, len(is))
	for i, in := range is {
		if recs[i], signed[i], err = s.sign(ctx, in.By, in.Request); err != nil {
			return nil, err
		}
	}
	if br, ok := s.repo.(BatchRepository); ok {
		if err := br.CreateTokens(ctx, recs); err != nil {
			return nil, err
		}
		return signed, nil
	}
	for _, rec := range recs {
		if err := s.repo.CreateToken(ctx, rec); err != nil {
			return nil, err
		}
	}
	return signed, nil
}

// sign checks req against what p may grant and signs the token, which is
// valid once its record is stored.
func (s *Service) sign(ctx context.Context, p identity.Principal, req IssueRequest) (Record, string, error) {
	ttl := req.TTL
	if ttl == 0 {
		ttl = s.cfg.DefaultTTL
	}
	if ttl < time.Minute || ttl > s.cfg.MaxTTL {
		return Record{}, "", fault.Invalid("the token lifetime is out of range", fault.Field("ttl", "must be between 1m and %s", s.cfg.MaxTTL))
	}
	if err := s.checkGrant(ctx, p, req); err != nil {
		return Record{}, "", err
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	exp := now.Add(ttl)
	if !p.ExpiresAt.IsZero() && exp.After(p.ExpiresAt) {
		if p.Kind != identity.KindToken {
			// Backstage tokens live a minute; they vouch for the user, not a lifetime.
		} else {
			exp = p.ExpiresAt.UTC().Truncate(time.Second)
		}
	}
	subject := p.Subject
	rec := Record{ID: "tok_" + randomID(12), Name: req.Name, Subject: subject, Team: req.Team,
		Verbs: req.Verbs, CreatedAt: now, ExpiresAt: exp}
	verbs := make([]string, len(req.Verbs))
	for i, v := range req.Verbs {
		verbs[i] = string(v)
	}
	c := claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, Subject: subject, Audience: jwt.ClaimStrings{Audience},
		ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(now), ID: rec.ID}, Team: req.Team, Verbs: verbs}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = s.keyID
	signed, err := t.SignedString(s.priv)
	if err != nil {
		return Record{}, "", fmt.Errorf("sign token: %w", err)
	}
	return rec, signed, nil
}

func (s *Service) checkGrant(ctx context.Context, p identity.Principal, req IssueRequest) error {
	if len(req.Verbs) == 0 {
		return fault.Invalid("a token needs at least one verb", fault.Field("verbs", "list read, write, manage or admin"))
	}
	if p.Admin {
		return nil
	}
	if slices.Contains(req.Verbs, identity.VerbAdmin) {
		return fault.Denied("only platform admins can issue tokens with the admin verb")
	}
	if req.Team == "" {
		return fault.Invalid("a token needs a team unless a platform admin issues it", fault.Field("team", "name the team the token acts for"))
	}
	m, err := s.members.Membership(ctx, req.Team)
	if err != nil {
		return err
	}
	for _, v := range req.Verbs {
		if !p.Can(v, m) {
			return fault.Denied("you cannot grant %q on team %q: you do not hold it yourself (ask a team maintainer)", v, req.Team)
		}
	}
	return nil
}

// Get returns a token's metadata to its owner or a platform admin.
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (Record, error) {
	r, err := s.repo.GetToken(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if r.Subject != p.Subject && !p.Admin {
		return Record{}, fault.NotFound("token", id)
	}
	return r, nil
}

// List returns the caller's tokens (or anyone's for platform admins).
func (s *Service) List(ctx context.Context, p identity.Principal, subject string, includeRevoked bool, page pagination.Page) ([]Record, string, error) {
	switch {
	case !p.Admin && subject != "" && subject != p.Subject:
		return nil, "", fault.Denied("only platform admins can list other people's tokens")
	case !p.Admin:
		subject = p.Subject
	}
	rs, err := s.repo.ListTokens(ctx, subject, includeRevoked, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	n, next := pagination.Next(len(rs), page.Limit, func(i int) string { return rs[i].ID })
	return rs[:n], next, nil
}

// Revoke revokes a token; revoking one twice succeeds.
func (s *Service) Revoke(ctx context.Context, p identity.Principal, id string) error {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if r.RevokedAt.IsZero() {
		if err := s.repo.RevokeToken(ctx, id, s.clock.Now().UTC()); err != nil {
			return err
		}
	}
	// After the store, so a concurrent check cannot re-mark it live.
	s.mu.Lock()
	delete(s.live, id)
	s.mu.Unlock()
	return nil
}
