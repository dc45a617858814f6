package identity

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Kind says how a principal authenticated.
type Kind string

// Kinds of principal.
const (
	KindBackstageUser    Kind = "backstage-user"
	KindBackstageService Kind = "backstage-service"
	KindToken            Kind = "token"
	KindAdminToken       Kind = "admin-token"
)

// Verb is a class of action.
type Verb string

// Verbs, from least to most powerful.
const (
	VerbRead   Verb = "read"
	VerbWrite  Verb = "write"
	VerbManage Verb = "manage"
	VerbAdmin  Verb = "admin"
)

// AllVerbs lists every verb.
var AllVerbs = []Verb{VerbRead, VerbWrite, VerbManage, VerbAdmin}

// ParseVerb validates a verb.
func ParseVerb(s string) (Verb, error) {
	for _, v := range AllVerbs {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown verb %q (want read, write, manage or admin)", s)
}

// Role is a team member's role.
type Role string

// Roles, from least to most powerful.
const (
	RoleViewer     Role = "viewer"
	RoleDeveloper  Role = "developer"
	RoleMaintainer Role = "maintainer"
)

var roleRank = map[Role]int{RoleViewer: 1, RoleDeveloper: 2, RoleMaintainer: 3}

// ParseRole validates a role.
func ParseRole(s string) (Role, error) {
	if _, ok := roleRank[Role(s)]; ok {
		return Role(s), nil
	}
	return "", fmt.Errorf("unknown role %q (want viewer, developer or maintainer)", s)
}

// Verbs returns what the role allows on its team.
func (r Role) Verbs() []Verb {
	switch r {
	case RoleViewer:
		return []Verb{VerbRead}
	case RoleDeveloper:
		return []Verb{VerbRead, VerbWrite}
	case RoleMaintainer:
		return []Verb{VerbRead, VerbWrite, VerbManage}
	}
	return nil
}

// Allows reports whether the role includes the verb.
func (r Role) Allows(v Verb) bool { return slices.Contains(r.Verbs(), v) }

// Principal is an authenticated caller.
type Principal struct {
	// Subject is who acts: `user:default/alice`, `plugin:scaffolder`, `admin`.
	Subject string
	Kind    Kind
	// Groups are the Backstage ownership entity refs of a user.
	Groups []string
	// Admin is true for platform admins.
	Admin bool
	// TokenID, TokenTeam and TokenVerbs narrow an mlportal-issued token.
	TokenID    string
	TokenTeam  string
	TokenVerbs []Verb
	// ExpiresAt is when the credential stops being valid (zero: never).
	ExpiresAt time.Time
}

// Actor is how the principal appears in the audit trail.
func (p Principal) Actor() string {
	switch {
	case p.Subject == "":
		return "anonymous"
	case p.Kind == KindToken:
		return p.Subject + " (token " + p.TokenID + ")"
	default:
		return p.Subject
	}
}

// Member grants a Backstage user or group a role in a team.
type Member struct {
	Subject string
	Role    Role
}

// Membership is what authorization needs to know about a team.
type Membership struct {
	Team           string
	BackstageGroup string
	Members        []Member
}

// RoleIn returns the highest role the principal holds in the team, if any.
// Members of the team's Backstage group are developers unless an explicit
// member entry says more.
func (p Principal) RoleIn(m Membership) (Role, bool) {
	if p.Kind == KindToken {
		// A token's rights come from its verbs; report the role they amount to.
		if p.TokenTeam != m.Team && !p.Admin {
			return "", false
		}
		best := Role("")
		for _, r := range []Role{RoleViewer, RoleDeveloper, RoleMaintainer} {
			if p.hasAllTokenVerbs(r.Verbs()) {
				best = r
			}
		}
		return best, best != ""
	}
	best, rank := Role(""), 0
	consider := func(r Role) {
		if roleRank[r] > rank {
			best, rank = r, roleRank[r]
		}
	}
	if m.BackstageGroup != "" && p.isOrHas(m.BackstageGroup) {
		consider(RoleDeveloper)
	}
	for _, mem := range m.Members {
		if p.isOrHas(mem.Subject) {
			consider(mem.Role)
		}
	}
	return best, rank > 0
}

func (p Principal) isOrHas(ref string) bool {
	ref = strings.ToLower(ref)
	if strings.ToLower(p.Subject) == ref {
		return true
	}
	for _, g := range p.Groups {
		if strings.ToLower(g) == ref {
			return true
		}
	}
	return false
}

func (p Principal) hasAllTokenVerbs(vs []Verb) bool {
	for _, v := range vs {
		if !slices.Contains(p.TokenVerbs, v) {
			return false
		}
	}
	return true
}

// Can reports whether the principal may perform verb on the team.
func (p Principal) Can(v Verb, m Membership) bool {
	if p.Kind == KindToken {
		if !slices.Contains(p.TokenVerbs, v) && !p.Admin {
			return false
		}
		return p.Admin || p.TokenTeam == m.Team
	}
	if p.Admin {
		return true
	}
	r, ok := p.RoleIn(m)
	return ok && r.Allows(v)
}

// CanGlobally reports whether the principal may perform verb outside any one
// team: reading the directory needs `read`; everything else needs admin.
func (p Principal) CanGlobally(v Verb) bool {
	if p.Admin {
		return true
	}
	if v != VerbRead {
		return false
	}
	if p.Kind == KindToken {
		return slices.Contains(p.TokenVerbs, VerbRead)
	}
	return p.Subject != ""
}

// IsAdmin reports whether subject or any of groups is listed in admins.
func IsAdmin(admins []string, subject string, groups []string) bool {
	p := Principal{Subject: subject, Groups: groups}
	for _, a := range admins {
		if p.isOrHas(a) {
			return true
		}
	}
	return false
}

var entityRefRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_-]*:[a-zA-Z0-9_.-]+/[a-zA-Z0-9_.@+-]+$`)

// ValidEntityRef reports whether s is a full Backstage entity ref
// (`kind:namespace/name`).
func ValidEntityRef(s string) bool { return len(s) <= 255 && entityRefRE.MatchString(s) }

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx; ok is false for anonymous calls.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
