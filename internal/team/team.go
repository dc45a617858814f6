// Package team manages mlportal teams: who belongs to them with which role,
// which Backstage group owns them and the GPU quota fields the scheduler will
// read. It validates and authorizes; persistence is behind Repository.
//
// It does not enforce quotas or fair share (the scheduler does) nor sync
// with Backstage's catalog (the Backstage plugins do).
package team

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
)

// Team is a group of people sharing projects, quota and budget.
type Team struct {
	Name           string
	DisplayName    string
	Description    string
	BackstageGroup string
	CostCenter     string
	Members        []identity.Member
	GPUQuota       []GPUQuota
	// FairShareWeight scales the team's share among teams that borrow idle
	// GPUs: a team of weight 3 gets about three times the borrowed GPUs of a
	// team of weight 1 when both want more. Always set (DefaultWeight when
	// the caller gave none).
	FairShareWeight float64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CreatedBy       string
	// Version increases on every change; it is the ETag.
	Version int64
}

// GPUQuota is the team's guaranteed (nominal) GPUs of one type and how many
// more it may borrow when other teams leave theirs idle.
type GPUQuota struct {
	GPUType        string
	Nominal        int
	BorrowingLimit int
}

// Membership returns what authorization needs.
func (t Team) Membership() identity.Membership {
	return identity.Membership{Team: t.Name, BackstageGroup: t.BackstageGroup, Members: t.Members}
}

// Spec is the part of a team a caller sets.
type Spec struct {
	DisplayName    string
	Description    string
	BackstageGroup string
	CostCenter     string
	Members        []identity.Member
	GPUQuota       []GPUQuota
	// FairShareWeight is the team's fair-share weight; nil means
	// DefaultWeight (an update without it resets the weight, as it does every
	// other field of the spec).
	FairShareWeight *float64
}

// Bounds of a team's fair-share weight. Only ratios of weights matter; the
// bounds keep the ratio between any two teams at most 10,000:1, beyond which
// the lighter team would in effect never borrow, and keep weights readable.
const (
	DefaultWeight = 1.0
	MinWeight     = 0.01
	MaxWeight     = 100.0
)

var (
	nameRE    = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	gpuTypeRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

// ValidateName checks a team name (a DNS-1123 label, 2–63 characters).
func ValidateName(name string) *fault.FieldError {
	if len(name) < 2 || len(name) > 63 || !nameRE.MatchString(name) {
		fe := fault.Field("name", "must be 2-63 lower-case letters, digits or '-', starting with a letter and not ending with '-' (got %q)", name)
		return &fe
	}
	return nil
}

// Validate returns every problem with the spec at once.
func (s Spec) Validate() []fault.FieldError {
	var errs []fault.FieldError
	if s.BackstageGroup != "" && !identity.ValidEntityRef(s.BackstageGroup) {
		errs = append(errs, fault.Field("backstageGroup", "must be an entity ref like group:default/ml-research"))
	}
	seen := map[string]bool{}
	for i, m := range s.Members {
		f := fmt.Sprintf("members[%d]", i)
		if !identity.ValidEntityRef(m.Subject) {
			errs = append(errs, fault.Field(f+".subject", "must be an entity ref like user:default/alice or group:default/ml-research"))
		}
		if _, err := identity.ParseRole(string(m.Role)); err != nil {
			errs = append(errs, fault.Field(f+".role", "%v", err))
		}
		if seen[m.Subject] {
			errs = append(errs, fault.Field(f+".subject", "%s is listed twice", m.Subject))
		}
		seen[m.Subject] = true
	}
	types := map[string]bool{}
	for i, q := range s.GPUQuota {
		f := fmt.Sprintf("gpuQuota[%d]", i)
		if !gpuTypeRE.MatchString(q.GPUType) {
			errs = append(errs, fault.Field(f+".gpuType", "must be lower-case letters, digits, '-' or '.' (got %q)", q.GPUType))
		}
		if q.Nominal < 0 || q.BorrowingLimit < 0 {
			errs = append(errs, fault.Field(f, "nominal and borrowingLimit must not be negative"))
		}
		if types[q.GPUType] {
			errs = append(errs, fault.Field(f+".gpuType", "%s is listed twice", q.GPUType))
		}
		types[q.GPUType] = true
	}
	if w := s.FairShareWeight; w != nil && !(*w >= MinWeight && *w <= MaxWeight) {
		errs = append(errs, fault.Field("fairShareWeight", "must be between %g and %g, where 1 is an ordinary team's share and 3 triples it (got %g)", MinWeight, MaxWeight, *w))
	}
	return errs
}

// Repository persists teams. Update and Delete take the version the caller
// read (0 = any) and fail with fault.ErrPreconditionFailed when it moved.
type Repository interface {
	CreateTeam(ctx context.Context, t Team) error
	GetTeam(ctx context.Context, name string) (Team, error)
	ListTeams(ctx context.Context, after string, limit int) ([]Team, error)
	UpdateTeam(ctx context.Context, t Team, ifVersion int64) (Team, error)
	DeleteTeam(ctx context.Context, name string, ifVersion int64) error
}

// Service is the team use cases.
type Service struct {
	repo  Repository
	clock clock.Clock
}

// NewService returns a Service.
func NewService(repo Repository, clk clock.Clock) *Service {
	return &Service{repo: repo, clock: clk}
}

// Create creates a team; only platform admins may.
func (s *Service) Create(ctx context.Context, p identity.Principal, name string, spec Spec) (Team, error) {
	if !p.CanGlobally(identity.VerbAdmin) {
		return Team{}, fault.Denied("only platform admins can create teams; ask one to create %q, or to add you to mlportal.auth.admins", name)
	}
	errs := spec.Validate()
	if fe := ValidateName(name); fe != nil {
		errs = append([]fault.FieldError{*fe}, errs...)
	}
	if len(errs) > 0 {
		return Team{}, fault.Invalid("the team is not valid", errs...)
	}
	now := s.clock.Now().UTC()
	t := apply(Team{Name: name, CreatedAt: now, CreatedBy: p.Subject, Version: 1}, spec)
	t.UpdatedAt = now
	if err := s.repo.CreateTeam(ctx, t); err != nil {
		return Team{}, err
	}
	return t, nil
}

func apply(t Team, s Spec) Team {
	t.DisplayName = s.DisplayName
	if t.DisplayName == "" {
		t.DisplayName = t.Name
	}
	t.Description, t.BackstageGroup, t.CostCenter = s.Description, s.BackstageGroup, s.CostCenter
	t.Members = append([]identity.Member{}, s.Members...)
	t.GPUQuota = append([]GPUQuota{}, s.GPUQuota...)
	t.FairShareWeight = DefaultWeight
	if s.FairShareWeight != nil {
		t.FairShareWeight = *s.FairShareWeight
	}
	return t
}

// Get returns a team to any authenticated reader.
func (s *Service) Get(ctx context.Context, p identity.Principal, name string) (Team, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return Team{}, fault.Denied("this credential cannot read teams; use a token with the read verb")
	}
	return s.repo.GetTeam(ctx, name)
}

// List returns a page of teams ordered by name.
func (s *Service) List(ctx context.Context, p identity.Principal, page pagination.Page) ([]Team, string, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return nil, "", fault.Denied("this credential cannot read teams; use a token with the read verb")
	}
	ts, err := s.repo.ListTeams(ctx, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	n, next := pagination.Next(len(ts), page.Limit, func(i int) string { return ts[i].Name })
	return ts[:n], next, nil
}

// Update replaces a team's spec; team maintainers and platform admins may,
// but only platform admins may change its fair-share weight (it weighs the
// team against the others). ifVersion is the version the caller read (0 =
// do not check).
func (s *Service) Update(ctx context.Context, p identity.Principal, name string, spec Spec, ifVersion int64) (Team, error) {
	cur, err := s.repo.GetTeam(ctx, name)
	if err != nil {
		return Team{}, err
	}
	if !p.Can(identity.VerbManage, cur.Membership()) {
		return Team{}, fault.Denied("changing team %q needs the maintainer role in it (or platform admin)", name)
	}
	if errs := spec.Validate(); len(errs) > 0 {
		return Team{}, fault.Invalid("the team is not valid", errs...)
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return Team{}, staleVersion(name)
	}
	next := apply(cur, spec)
	if next.FairShareWeight != cur.FairShareWeight && !p.CanGlobally(identity.VerbAdmin) {
		return Team{}, fault.Denied("only platform admins can change a team's fair-share weight, as it decides the team's share against other teams; "+
			"send fairShareWeight %g to keep it, or ask a platform admin", cur.FairShareWeight)
	}
	if !sameQuota(next.GPUQuota, cur.GPUQuota) && !p.CanGlobally(identity.VerbAdmin) {
		return Team{}, fault.Denied("a team's GPU quota changes through a quota request that a platform admin approves "+
			"(POST /api/v1/teams/%s/quota-requests, or mlportal quota request); send gpuQuota as it is to keep it", name)
	}
	next.UpdatedAt = s.clock.Now().UTC()
	next.Version = cur.Version + 1
	return s.repo.UpdateTeam(ctx, next, cur.Version)
}

// sameQuota reports whether a and b give the same GPUs, in any order.
func sameQuota(a, b []GPUQuota) bool {
	if len(a) != len(b) {
		return false
	}
	byType := make(map[string]GPUQuota, len(a))
	for _, q := range a {
		byType[q.GPUType] = q
	}
	for _, q := range b {
		if byType[q.GPUType] != q {
			return false
		}
	}
	return true
}

// Delete removes a team; only platform admins may.
func (s *Service) Delete(ctx context.Context, p identity.Principal, name string, ifVersion int64) error {
	if !p.CanGlobally(identity.VerbAdmin) {
		return fault.Denied("only platform admins can delete teams")
	}
	return s.repo.DeleteTeam(ctx, name, ifVersion)
}

func staleVersion(name string) error {
	return fault.New(fault.ErrPreconditionFailed, "team %q changed since you read it; read it again and reapply your change", name)
}

// Membership returns who belongs to the team, for authorization elsewhere.
func (s *Service) Membership(ctx context.Context, name string) (identity.Membership, error) {
	t, err := s.repo.GetTeam(ctx, name)
	if err != nil {
		return identity.Membership{}, err
	}
	return t.Membership(), nil
}
