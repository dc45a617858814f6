package project

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/pagination"
)

// Memberships says who belongs to a team; fault.ErrNotFound for no team.
type Memberships interface {
	Membership(ctx context.Context, team string) (identity.Membership, error)
}

// Templates resolves lifecycle templates ("" version = the latest).
type Templates interface {
	Get(name, version string) (lifecycle.Template, error)
}

// Enqueuer runs a project's saga in the background.
type Enqueuer interface {
	Enqueue(id string)
}

// NewID returns a random project id, prj_ and 20 hex digits.
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "prj_" + hex.EncodeToString(b[:])
}

// Service is the project use cases.
type Service struct {
	repo         Repository
	teams        Teams
	templates    Templates
	runner       Enqueuer
	clock        clock.Clock
	newID        func() string
	defaultQuota Quota
	defaultSCM   string
	scms         []string

	mu    sync.Mutex
	locks map[string]*sync.Mutex // team → held while checking its ceiling and recording a project
}

// NewService returns a Service. newID nil means NewID.
func NewService(repo Repository, teams Teams, templates Templates, runner Enqueuer, clk clock.Clock, newID func() string, opts ...Option) *Service {
	if newID == nil {
		newID = NewID
	}
	s := &Service{repo: repo, teams: teams, templates: templates, runner: runner, clock: clk, newID: newID,
		defaultQuota: DefaultQuota, defaultSCM: SCMLocal, scms: []string{SCMLocal}, locks: map[string]*sync.Mutex{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// teamLock returns the mutex serialising quota decisions in a team.
func (s *Service) teamLock(team string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[team]
	if !ok {
		l = &sync.Mutex{}
		s.locks[team] = l
	}
	return l
}

// Create validates and records a project and starts its saga. The same
// request again returns the existing project with created false; another
// request for a taken name fails with fault.ErrAlreadyExists.
func (s *Service) Create(ctx context.Context, p identity.Principal, req CreateRequest) (Project, bool, error) {
	m, err := s.teams.Membership(ctx, req.Team)
	if err != nil {
		return Project{}, false, err
	}
	if !p.Can(identity.VerbWrite, m) {
		return Project{}, false, fault.Denied("creating a project in team %q needs the member role in it (or platform admin)", req.Team)
	}
	if req.SCM == "" {
		req.SCM = s.defaultSCM
	}
	errs := req.validate()
	if !slices.Contains(s.scms, req.SCM) {
		errs = append(errs, fault.Field("scm", "must be one of %s on this server (got %q); ask your platform team to configure mlportal.scm.%s",
			strings.Join(s.scms, ", "), req.SCM, req.SCM))
	}
	if len(errs) > 0 {
		return Project{}, false, fault.Invalid("the project is not valid", errs...)
	}
	tpl, err := s.templates.Get(req.Template, req.TemplateVersion)
	if err != nil {
		return Project{}, false, s.templateError(err, req)
	}
	if _, errs := lifecycle.Merge(tpl, req.Overrides); len(errs) > 0 {
		for i := range errs {
			errs[i].Field = "overrides." + errs[i].Field
		}
		return Project{}, false, fault.Invalid("the overrides do not fit lifecycle template "+tpl.Metadata.Name, errs...)
	}
	quota := req.Quota.resolve(s.defaultQuota)
	now := s.clock.Now().UTC()
	prj := Project{ID: s.newID(), Team: req.Team, Name: req.Name, Description: req.Description, Template: tpl.Metadata.Name,
		TemplateVersion: tpl.Metadata.Version, Overrides: req.Overrides, SCM: req.SCM, Quota: quota, Status: StatusPending,
		CreatedBy: p.Subject, CreatedAt: now, UpdatedAt: now, Version: 1}
	for _, n := range StepNames {
		prj.Steps = append(prj.Steps, Step{Name: n, Status: StepPending})
	}
	err = s.record(ctx, prj)
	if errors.Is(err, fault.ErrAlreadyExists) {
		cur, gerr := s.repo.GetProjectByName(ctx, req.Team, req.Name)
		if gerr != nil {
			return Project{}, false, gerr
		}
		if sameRequest(cur, prj) {
			return cur, false, nil
		}
		return Project{}, false, fault.New(fault.ErrAlreadyExists,
			"team %q already has a project named %q (%s) made from a different request; pick another name", req.Team, req.Name, cur.ID)
	}
	if err != nil {
		return Project{}, false, err
	}
	s.runner.Enqueue(prj.ID)
	return prj, true, nil
}

// record checks the team's GPU ceiling and stores prj, under the team's
// lock so that concurrent creations cannot overshoot it together (one
// process; replicas would need the check in the store's transaction).
func (s *Service) record(ctx context.Context, prj Project) error {
	l := s.teamLock(prj.Team)
	l.Lock()
	defer l.Unlock()
	if err := s.checkQuota(ctx, prj.Team, prj.Name, prj.Quota); err != nil {
		return err
	}
	return s.repo.CreateProject(ctx, prj)
}

// sameRequest reports whether a and b were asked for with the same inputs.
func sameRequest(a, b Project) bool {
	return a.Team == b.Team && a.Name == b.Name && a.Description == b.Description && a.Template == b.Template &&
		a.TemplateVersion == b.TemplateVersion && reflect.DeepEqual(a.Overrides, b.Overrides) && a.Quota == b.Quota && a.SCM == b.SCM
}

func (s *Service) templateError(err error, req CreateRequest) error {
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	field := "template"
	if _, nerr := s.templates.Get(req.Template, ""); nerr == nil {
		field = "templateVersion" // the name is known, the version is not
	}
	return fault.Invalid("unknown lifecycle template", fault.Field(field, "%s; see GET /api/v1/lifecycle-templates", fe.Message))
}

// Get returns a project. Projects are read like the team directory: any
// credential with the read verb may (they hold nothing secret, and
// Backstage's catalog shows them to everyone anyway).
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (Project, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return Project{}, fault.Denied("this credential cannot read projects; use a token with the read verb")
	}
	return s.repo.GetProject(ctx, id)
}

// List returns a page of projects by id, of one team ("" = every team).
func (s *Service) List(ctx context.Context, p identity.Principal, team string, page pagination.Page) ([]Project, string, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return nil, "", fault.Denied("this credential cannot read projects; use a token with the read verb")
	}
	if team != "" {
		if _, err := s.teams.Membership(ctx, team); err != nil {
			return nil, "", err
		}
	}
	ps, err := s.repo.ListProjects(ctx, team, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	n, next := pagination.Next(len(ps), page.Limit, func(i int) string { return ps[i].ID })
	return ps[:n], next, nil
}

// Retry restarts a failed project's saga from its failed steps.
func (s *Service) Retry(ctx context.Context, p identity.Principal, id string) (Project, error) {
	prj, err := s.repo.GetProject(ctx, id)
	if err != nil {
		return Project{}, err
	}
	if err := s.authorize(ctx, p, identity.VerbWrite, prj.Team); err != nil {
		return Project{}, err
	}
	if prj.Status != StatusFailed {
		return Project{}, fault.New(fault.ErrConflict, "project %s is %s; only a failed project can be retried", id, prj.Status)
	}
	next := prj.Clone()
	for i := range next.Steps {
		if next.Steps[i].Status == StepFailed {
			next.Steps[i].Status = StepPending
		}
	}
	next.Status = StatusRunning
	next.UpdatedAt = s.clock.Now().UTC()
	next.Version = prj.Version + 1
	if err := s.repo.UpdateProject(ctx, next, prj.Version); err != nil {
		return Project{}, err
	}
	s.runner.Enqueue(next.ID)
	return next, nil
}

func (s *Service) authorize(ctx context.Context, p identity.Principal, v identity.Verb, team string) error {
	m, err := s.teams.Membership(ctx, team)
	if err != nil {
		return err
	}
	if !p.Can(v, m) {
		return fault.Denied("this needs the %s verb in team %q", v, team)
	}
	return nil
}

// Delete starts deleting a project: its saga runs backwards, removing the
// repository and the namespace, and the record goes last (the name is then
// free again). A project whose saga still runs cannot be deleted until it
// succeeds or fails; deleting a deleting project returns it unchanged.
func (s *Service) Delete(ctx context.Context, p identity.Principal, id string) (Project, error) {
	prj, err := s.repo.GetProject(ctx, id)
	if err != nil {
		return Project{}, err
	}
	if err := s.authorize(ctx, p, identity.VerbWrite, prj.Team); err != nil {
		return Project{}, err
	}
	switch prj.Status {
	case StatusDeleting:
		s.runner.Enqueue(prj.ID)
		return prj, nil
	case StatusPending, StatusRunning:
		return Project{}, fault.New(fault.ErrConflict, "project %s is still being created (%s); wait until it succeeds or fails, then delete it", id, prj.Status)
	}
	next := prj.Clone()
	next.Status = StatusDeleting
	for i := range next.Steps {
		if next.Steps[i].Status == StepFailed {
			next.Steps[i].Error = "" // a deletion starts over from what exists
		}
	}
	next.UpdatedAt = s.clock.Now().UTC()
	next.Version = prj.Version + 1
	if err := s.repo.UpdateProject(ctx, next, prj.Version); err != nil {
		return Project{}, err
	}
	s.runner.Enqueue(next.ID)
	return next, nil
}
