package quota

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/team"
)

// Repository persists quota requests. UpdateQuotaRequest fails with
// fault.ErrPreconditionFailed when the stored version is not ifVersion.
type Repository interface {
	CreateQuotaRequest(ctx context.Context, r Request) error
	GetQuotaRequest(ctx context.Context, id string) (Request, error)
	// ListQuotaRequests returns up to limit of team's requests with ids
	// after `after`, by id (oldest first), only of status when set.
	ListQuotaRequests(ctx context.Context, team string, status Status, after string, limit int) ([]Request, error)
	UpdateQuotaRequest(ctx context.Context, r Request, ifVersion int64) error
	// ListQuotaRequestsToReconcile returns the approved requests whose
	// grant ended by now and every approved or expired one not applied.
	ListQuotaRequestsToReconcile(ctx context.Context, now time.Time) ([]Request, error)
}

// Teams reads and updates teams' quota with optimistic versions.
type Teams interface {
	GetTeam(ctx context.Context, name string) (team.Team, error)
	UpdateTeam(ctx context.Context, t team.Team, ifVersion int64) (team.Team, error)
}

// Projects reads and updates projects' quota with optimistic versions.
type Projects interface {
	GetProjectByName(ctx context.Context, team, name string) (project.Project, error)
	ListProjects(ctx context.Context, team, after string, limit int) ([]project.Project, error)
	UpdateProject(ctx context.Context, p project.Project, ifVersion int64) error
}

// Jobs lists jobs (those holding GPUs count as in use).
type Jobs interface {
	ListJobs(ctx context.Context, f jobs.Filter, after string, limit int) ([]jobs.Job, error)
}

// NamespaceQuotas applies a project's quota to its namespace's
// ResourceQuota. nil in local mode, where the project's record is the
// quota.
type NamespaceQuotas interface {
	Apply(ctx context.Context, team, project string, q project.Quota) error
}

// Config are the service's collaborators and settings.
type Config struct {
	Repo       Repository
	Teams      Teams
	Projects   Projects
	Jobs       Jobs
	Namespaces NamespaceQuotas // nil = local mode
	Clock      clock.Clock
	Log        *slog.Logger
	// DefaultProjectGPUs is the ceiling of a team without quota entries
	// (mlportal.projects.defaultQuota.gpus).
	DefaultProjectGPUs int
	// NewID returns request ids; nil = NewID with the clock.
	NewID func() string
}

// Service is the quota use cases.
type Service struct{ cfg Config }

// NewService returns the quota service.
func NewService(cfg Config) *Service {
	if cfg.NewID == nil {
		cfg.NewID = func() string { return NewID(cfg.Clock.Now()) }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

// NewID returns a request id that sorts by creation time: qr_, 12 hex
// digits of milliseconds and 8 random ones.
func NewID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("qr_%012x%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

// system acts for the service where its caller was already authorized.
var system = identity.Principal{Subject: "system:mlportal/quota"}

var holding = []jobs.State{jobs.StateStarting, jobs.StateRunning, jobs.StateStopping}

// Usage returns a team's quota, its use and by which jobs, to any reader.
func (s *Service) Usage(ctx context.Context, p identity.Principal, teamName string) (Usage, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return Usage{}, fault.Denied("this credential cannot read quotas; use a token with the read verb")
	}
	t, err := s.cfg.Teams.GetTeam(ctx, teamName)
	if err != nil {
		return Usage{}, err
	}
	var held []jobs.Job
	for after := ""; ; {
		page, err := s.cfg.Jobs.ListJobs(ctx, jobs.Filter{Team: teamName, States: holding}, after, 500)
		if err != nil {
			return Usage{}, err
		}
		held = append(held, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	ps, err := s.projects(ctx, teamName)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Team: t.Name, Types: Compute(t, held), Ceiling: project.CeilingOf(t, s.cfg.DefaultProjectGPUs).GPUs()}
	for _, pr := range ps {
		u.Projects = append(u.Projects, ProjectQuota{Name: pr.Name, Namespace: pr.Namespace, GPUs: pr.Quota.GPUs})
	}
	return u, nil
}

func (s *Service) projects(ctx context.Context, teamName string) ([]project.Project, error) {
	var out []project.Project
	for after := ""; ; {
		page, err := s.cfg.Projects.ListProjects(ctx, teamName, after, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// Create records a request of a team member.
func (s *Service) Create(ctx context.Context, p identity.Principal, teamName string, spec Spec) (Request, error) {
	t, err := s.cfg.Teams.GetTeam(ctx, teamName)
	if err != nil {
		return Request{}, err
	}
	if !p.Can(identity.VerbWrite, t.Membership()) {
		return Request{}, fault.Denied("requesting quota for team %q needs the member role in it (developer or maintainer)", teamName)
	}
	if errs := spec.Validate(); len(errs) > 0 {
		return Request{}, fault.Invalid("the quota request is not valid", errs...)
	}
	if _, err := s.plan(ctx, t, spec); err != nil {
		return Request{}, err
	}
	now := s.cfg.Clock.Now().UTC()
	r := Request{ID: s.cfg.NewID(), Team: teamName, Spec: spec, Status: StatusPending, RequestedBy: p.Subject,
		RequestedAt: now, UpdatedAt: now, Version: 1}
	if err := s.cfg.Repo.CreateQuotaRequest(ctx, r); err != nil {
		return Request{}, err
	}
	s.cfg.Log.Info("quota requested", "request", r.ID, "team", teamName, "gpuType", spec.GPUType, "gpus", spec.GPUs, "project", spec.Project, "by", p.Subject)
	return r, nil
}

// plan checks that the request can be granted now — its project exists
// and the team's projects stay within the ceiling the grant leaves — and
// returns what granting it changes.
func (s *Service) plan(ctx context.Context, t team.Team, spec Spec) (Change, error) {
	projectGPUs := 0
	if spec.Project != "" {
		prj, err := s.cfg.Projects.GetProjectByName(ctx, t.Name, spec.Project)
		if err != nil {
			return Change{}, err
		}
		projectGPUs = prj.Quota.GPUs
	}
	c := spec.Plan(t, projectGPUs)
	if spec.Project == "" {
		return c, nil
	}
	granted := t
	granted.GPUQuota = c.Granted(t.GPUQuota, spec.GPUType)
	ps, err := s.projects(ctx, t.Name)
	if err != nil {
		return Change{}, err
	}
	held := map[string]int{}
	for _, pr := range ps {
		if pr.Name != spec.Project {
			held[pr.Name] = pr.Quota.GPUs
		}
	}
	if err := project.CheckCeiling(project.CeilingOf(granted, s.cfg.DefaultProjectGPUs), c.ProjectGPUsAfter, held); err != nil {
		fe, _ := fault.As(err)
		msg := err.Error()
		if fe != nil && len(fe.Fields) > 0 {
			msg = fe.Fields[0].Reason
		}
		return Change{}, fault.Invalid("the project's GPUs would not fit the team's quota once granted",
			fault.Field("projectGpus", "%s; ask for more team GPUs in the same request", msg))
	}
	return c, nil
}

// Get returns one of a team's requests to any reader.
func (s *Service) Get(ctx context.Context, p identity.Principal, teamName, id string) (Request, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return Request{}, fault.Denied("this credential cannot read quota requests; use a token with the read verb")
	}
	return s.get(ctx, teamName, id)
}

func (s *Service) get(ctx context.Context, teamName, id string) (Request, error) {
	r, err := s.cfg.Repo.GetQuotaRequest(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if r.Team != teamName {
		return Request{}, fault.NotFound("quota request", id)
	}
	return r, nil
}

// List returns a page of a team's requests, oldest first, to any reader.
func (s *Service) List(ctx context.Context, p identity.Principal, teamName string, status Status, page pagination.Page) ([]Request, string, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return nil, "", fault.Denied("this credential cannot read quota requests; use a token with the read verb")
	}
	if _, err := s.cfg.Teams.GetTeam(ctx, teamName); err != nil {
		return nil, "", err
	}
	rs, err := s.cfg.Repo.ListQuotaRequests(ctx, teamName, status, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	n, next := pagination.Next(len(rs), page.Limit, func(i int) string { return rs[i].ID })
	return rs[:n], next, nil
}

// Approve grants a pending request (platform admins) and applies it: the
// team's quota, then the project's quota and its namespace. Approving an
// approved request again is not an error: it returns the request and
// retries applying it if that has not succeeded yet.
func (s *Service) Approve(ctx context.Context, p identity.Principal, teamName, id, comment string) (Request, error) {
	if !p.CanGlobally(identity.VerbAdmin) {
		return Request{}, fault.Denied("only platform admins approve quota requests; ask one to review request %s", id)
	}
	for {
		r, err := s.get(ctx, teamName, id)
		if err != nil {
			return Request{}, err
		}
		switch r.Status {
		case StatusApproved:
			if !r.Applied {
				r = s.apply(ctx, r)
			}
			return r, nil
		case StatusDenied, StatusExpired:
			return Request{}, fault.New(fault.ErrConflict, "quota request %s is %s and cannot be approved; the team can file a new one (mlportal quota request)", id, r.Status)
		}
		t, err := s.cfg.Teams.GetTeam(ctx, teamName)
		if err != nil {
			return Request{}, err
		}
		c, err := s.plan(ctx, t, r.Spec)
		if err != nil {
			return Request{}, err
		}
		now := s.cfg.Clock.Now().UTC()
		next := r.Clone()
		next.Status, next.DecidedBy, next.DecidedAt, next.Comment, next.Change = StatusApproved, p.Subject, now, comment, &c
		if r.Duration > 0 {
			next.ExpiresAt = now.Add(r.Duration)
		}
		ok, err := s.save(ctx, r, &next)
		if err != nil {
			return Request{}, err
		}
		if !ok {
			continue // decided concurrently: look again
		}
		s.cfg.Log.Info("quota request approved", "request", id, "team", teamName, "by", p.Subject, "expiresAt", next.ExpiresAt)
		return s.apply(ctx, next), nil
	}
}

// Deny refuses a pending request (platform admins) with a reason.
// Denying a denied request again returns it.
func (s *Service) Deny(ctx context.Context, p identity.Principal, teamName, id, reason string) (Request, error) {
	if !p.CanGlobally(identity.VerbAdmin) {
		return Request{}, fault.Denied("only platform admins deny quota requests")
	}
	if len([]rune(reason)) < 3 {
		return Request{}, fault.Invalid("a denial needs a reason", fault.Field("comment", "say why, so that the team knows what to change (at least 3 characters)"))
	}
	for {
		r, err := s.get(ctx, teamName, id)
		if err != nil {
			return Request{}, err
		}
		switch r.Status {
		case StatusDenied:
			return r, nil
		case StatusApproved, StatusExpired:
			return Request{}, fault.New(fault.ErrConflict, "quota request %s was already approved; to take the GPUs back, change the team's gpuQuota (mlportal teams) or let a temporary grant expire", id)
		}
		next := r.Clone()
		next.Status, next.DecidedBy, next.DecidedAt, next.Comment = StatusDenied, p.Subject, s.cfg.Clock.Now().UTC(), reason
		ok, err := s.save(ctx, r, &next)
		if err != nil {
			return Request{}, err
		}
		if ok {
			s.cfg.Log.Info("quota request denied", "request", id, "team", teamName, "by", p.Subject)
			return next, nil
		}
	}
}

// save stores next over cur; false means the request changed meanwhile.
func (s *Service) save(ctx context.Context, cur Request, next *Request) (bool, error) {
	next.UpdatedAt, next.Version = s.cfg.Clock.Now().UTC(), cur.Version+1
	err := s.cfg.Repo.UpdateQuotaRequest(ctx, *next, cur.Version)
	if errors.Is(err, fault.ErrPreconditionFailed) {
		return false, nil
	}
	return err == nil, err
}
