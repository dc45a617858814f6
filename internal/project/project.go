package project

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/lifecycle"
)

// Status is where a project's saga stands.
type Status string

// Project statuses.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	// StatusDeleting: the saga runs backwards, undoing what its steps made
	// (the repository, the namespace); the project's record goes last.
	StatusDeleting Status = "deleting"
	// StatusDeleted is never stored: the event stream's last word on a
	// project whose deletion finished.
	StatusDeleted Status = "deleted"
)

// Terminal reports whether the saga has stopped (until a retry).
func (s Status) Terminal() bool { return s == StatusSucceeded || s == StatusFailed }

// StepStatus is where one step stands.
type StepStatus string

// Step statuses.
const (
	StepPending StepStatus = "pending"
	StepRunning StepStatus = "running"
	StepDone    StepStatus = "done"
	StepSkipped StepStatus = "skipped"
	StepFailed  StepStatus = "failed"
	// StepUndone: what the step made was removed (the project is deleting).
	StepUndone StepStatus = "undone"
)

// Finished reports whether the step needs no more work.
func (s StepStatus) Finished() bool { return s == StepDone || s == StepSkipped }

// Step names, in the order they run.
const (
	StepRepository = "repository"
	StepNamespace  = "namespace"
	StepBinding    = "binding"
	StepCatalog    = "catalog"
)

// StepNames lists the saga's steps in order.
var StepNames = []string{StepRepository, StepNamespace, StepBinding, StepCatalog}

// Repository hosts (SCM providers).
const (
	// SCMLocal is the built-in provider: bare repositories served by mlportal.
	SCMLocal = "local"
	// SCMGitHub is github.com or GitHub Enterprise.
	SCMGitHub = "github"
)

// Step is one step of a project's saga.
type Step struct {
	Name       string     `json:"name"`
	Status     StepStatus `json:"status"`
	Attempts   int        `json:"attempts"`
	StartedAt  time.Time  `json:"startedAt,omitzero"`
	FinishedAt time.Time  `json:"finishedAt,omitzero"`
	// Error says why the step failed, in words a data scientist can act on.
	Error string `json:"error,omitempty"`
	// Detail is what the step made, e.g. the namespace or the commit.
	Detail string `json:"detail,omitempty"`
	// Quota is where projects recorded before schema v3 kept their quota
	// (on the namespace step); it is only read, into Project.Quota.
	Quota *Quota `json:"quota,omitempty"`
}

// Project is an ML project and the state of its bootstrap saga.
type Project struct {
	ID              string
	Team            string
	Name            string
	Description     string
	Template        string // lifecycle template name
	TemplateVersion string // resolved version
	Overrides       lifecycle.Overrides
	SCM             string // SCMLocal or SCMGitHub
	RepoURL         string // the clone URL
	WebURL          string // where people browse the repository
	// CatalogInfoURL is the catalog-info.yaml Backstage's catalog:register reads.
	CatalogInfoURL string
	// Quota is the namespace's quota: the namespace step applies it; in
	// local mode this record is what mlportal enforces.
	Quota     Quota
	Namespace string
	EntityRef string // the Backstage System, e.g. system:default/churn
	Status    Status
	Steps     []Step
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version increases on every change.
	Version int64
}

// Step returns the step named name (nil if none).
func (p *Project) Step(name string) *Step {
	for i := range p.Steps {
		if p.Steps[i].Name == name {
			return &p.Steps[i]
		}
	}
	return nil
}

// Clone returns a deep copy.
func (p Project) Clone() Project {
	p.Steps = append([]Step(nil), p.Steps...)
	for i := range p.Steps {
		p.Steps[i].Quota = nil // only ever read from old records, into p.Quota
	}
	return p
}

// CreateRequest is what a caller asks for.
type CreateRequest struct {
	Team            string
	Name            string
	Description     string
	Template        string
	TemplateVersion string // "" = the latest
	Overrides       lifecycle.Overrides
	// SCM is the repository host; "" is the server's default.
	SCM string
	// Quota is the namespace's quota; nil or empty fields take the
	// configured default (mlportal.projects.defaultQuota).
	Quota *QuotaRequest
}

// Repository persists projects. CreateProject fails with
// fault.ErrAlreadyExists when the team already has a project of that name;
// UpdateProject with fault.ErrPreconditionFailed when the stored version is
// not ifVersion.
type Repository interface {
	CreateProject(ctx context.Context, p Project) error
	GetProject(ctx context.Context, id string) (Project, error)
	GetProjectByName(ctx context.Context, team, name string) (Project, error)
	ListProjects(ctx context.Context, team, after string, limit int) ([]Project, error)
	ListUnfinishedProjects(ctx context.Context) ([]Project, error)
	UpdateProject(ctx context.Context, p Project, ifVersion int64) error
	// DeleteProject removes the record (the end of a deletion).
	DeleteProject(ctx context.Context, id string) error
	// LeaseProject makes owner the only runner of the project's saga until
	// `until` if nobody else holds an unexpired lease at now; it reports
	// whether owner holds it. Owner renews by calling it again.
	LeaseProject(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
	// ReleaseProject ends owner's lease, if owner holds it.
	ReleaseProject(ctx context.Context, id, owner string) error
}

var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// validate checks what can be checked without collaborators.
func (r CreateRequest) validate() []fault.FieldError {
	var errs []fault.FieldError
	if len(r.Name) < 2 || len(r.Name) > 63 || !nameRE.MatchString(r.Name) {
		errs = append(errs, fault.Field("name", "must be 2-63 lower-case letters, digits or '-', starting with a letter and not ending with '-' (got %q)", r.Name))
	}
	if r.Template == "" {
		errs = append(errs, fault.Field("template", "must name a lifecycle template, e.g. training; see GET /api/v1/lifecycle-templates"))
	}
	if len(r.Description) > 300 || strings.ContainsAny(r.Description, "\"\\\n\r") ||
		strings.Contains(r.Description, "${{") || strings.Contains(r.Description, "{%") || strings.Contains(r.Description, "{#") {
		errs = append(errs, fault.Field("description", "must be one line of at most 300 characters without %s", `", \, ${{, {% or {#`))
	}
	if r.Quota != nil {
		errs = append(errs, r.Quota.validate()...)
	}
	return errs
}

var timeZero time.Time
