package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/team"
)

// Projects finds a team's project by name.
type Projects interface {
	GetProjectByName(ctx context.Context, team, name string) (project.Project, error)
}

// Teams reads teams (membership for authorization, GPU quotas for the
// ceiling check).
type Teams interface {
	GetTeam(ctx context.Context, name string) (team.Team, error)
}

// Templates resolves lifecycle templates.
type Templates interface {
	Get(name, version string) (lifecycle.Template, error)
}

// Waker nudges the controller to run a cycle now.
type Waker interface{ Wake() }

// Limits bound what one job may ask for.
const (
	MaxGPUsPerReplica = 64
	MaxReplicas       = 64
	MaxTimeout        = 30 * 24 * time.Hour
	MaxRetries        = 10
)

// DefaultPriority is the class of a job that names none.
const DefaultPriority = scheduler.PriorityBatch

// SubmitRequest is a job as asked for; zero fields take the project's
// lifecycle template's defaults.
type SubmitRequest struct {
	Team, Project string
	Name          string // "" = "<project>-<random>"
	Image         string
	Command       []string
	Env           map[string]string
	GPUs          *int
	GPUType       string // "" = the template's; "any" = whichever is free
	CPU, Memory   string // Kubernetes quantities
	Replicas      int    // 0 = 1
	Timeout       time.Duration
	Retries       *int
	Preemptible   *bool
	Priority      string // "" = batch
	// EstimatedDuration helps packing.
	EstimatedDuration time.Duration
	Outputs           []string
	// Ref is the revision of the project's code ("" = the default branch).
	Ref string
}

// Service is the jobs use cases.
type Service struct {
	repo      Repository
	projects  Projects
	teams     Teams
	templates Templates
	logs      LogSource
	archive   LogArchive
	wake      Waker
	clock     clock.Clock
	newID     func() string
	budget    BudgetCheck
}

// BudgetCheck decides whether a team may queue more work: an error refuses
// the job (its team is over a hard budget limit); a warning is appended to
// the queued job's reason.
type BudgetCheck func(ctx context.Context, team string) (warning string, err error)

// Option configures a Service.
type Option func(*Service)

// WithBudgetCheck makes Submit consult check before queueing a job.
func WithBudgetCheck(check BudgetCheck) Option { return func(s *Service) { s.budget = check } }

// LogSource reads a job's output (the executor).
type LogSource interface {
	Logs(ctx context.Context, jobID string, follow bool, w io.Writer) error
}

// NewService returns the jobs service. newID nil means NewID.
func NewService(repo Repository, projects Projects, teams Teams, templates Templates, logs LogSource, wake Waker, clk clock.Clock, newID func() string, opts ...Option) *Service {
	if newID == nil {
		newID = NewID
	}
	s := &Service{repo: repo, projects: projects, teams: teams, templates: templates, logs: logs, wake: wake, clock: clk, newID: newID}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewID returns a random job id, job_ and 20 hex digits.
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "job_" + hex.EncodeToString(b[:])
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// reservedEnv are set by mlportal for every job.
var reservedEnv = []string{"MLPORTAL_", "MLFLOW_TRACKING_", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"}

// Submit validates a job against its project's template and the team's
// quota and queues it.
func (s *Service) Submit(ctx context.Context, p identity.Principal, req SubmitRequest) (Job, error) {
	if req.Team == "" {
		req.Team = p.TokenTeam // a team's token (CI) implies its team
	}
	if req.Team == "" {
		return Job{}, fault.Invalid("the job names no team", fault.Field("team", "required unless the token is scoped to a team"))
	}
	t, err := s.teams.GetTeam(ctx, req.Team)
	if err != nil {
		return Job{}, err
	}
	if !p.Can(identity.VerbWrite, t.Membership()) {
		return Job{}, fault.Denied("submitting a job in team %q needs the member role in it (or platform admin)", req.Team)
	}
	prj, err := s.projects.GetProjectByName(ctx, req.Team, req.Project)
	if err != nil {
		return Job{}, err
	}
	if prj.Status != project.StatusSucceeded {
		return Job{}, fault.New(fault.ErrConflict, "project %s is %s; jobs run in projects whose bootstrap succeeded (mlportal project show %s)", req.Project, prj.Status, prj.ID)
	}
	tpl, err := s.templates.Get(prj.Template, prj.TemplateVersion)
	if err != nil {
		return Job{}, err
	}
	res, errs := lifecycle.Merge(tpl, prj.Overrides)
	if len(errs) > 0 {
		return Job{}, fault.Invalid("the project's overrides no longer fit its lifecycle template", errs...)
	}
	j, errs := s.resolve(req, prj, res)
	if len(errs) == 0 {
		errs = checkCeiling(t, j)
	}
	if len(errs) > 0 {
		return Job{}, fault.Invalid("the job is not valid", errs...)
	}
	now := s.clock.Now().UTC()
	j.ID, j.CreatedBy, j.SubmittedAt, j.UpdatedAt, j.State, j.Version = s.newID(), p.Subject, now, now, StateQueued, 1
	j.Reason = "waiting for the scheduler's next decision"
	if s.budget != nil {
		warning, err := s.budget(ctx, j.Team)
		if err != nil {
			return Job{}, err
		}
		if warning != "" {
			j.Reason += "; " + warning
		}
	}
	if j.Name == "" {
		j.Name = prj.Name + "-" + strings.TrimPrefix(j.ID, "job_")[:8]
	}
	if err := s.repo.CreateJob(ctx, j); err != nil {
		return Job{}, err
	}
	if s.wake != nil {
		s.wake.Wake()
	}
	return j, nil
}

// resolve merges the request over the template's job defaults.
func (s *Service) resolve(req SubmitRequest, prj project.Project, res lifecycle.Resolved) (Job, []fault.FieldError) {
	def := res.Spec.Job
	j := Job{Team: req.Team, Project: req.Project, Name: req.Name, Template: res.Name, TemplateVersion: res.Version,
		Image: def.Image, Command: def.Command, GPUs: def.Resources.GPU, GPUType: def.Resources.GPUType,
		Replicas: 1, Timeout: def.Timeout.Duration, Retries: def.Retries, Preemptible: def.Preemptible,
		EstimatedDuration: req.EstimatedDuration, Outputs: req.Outputs, Env: req.Env, Priority: DefaultPriority, Ref: req.Ref}
	var errs []fault.FieldError
	if len(req.Ref) > 255 || strings.HasPrefix(req.Ref, "-") || strings.ContainsAny(req.Ref, " \t\n:~^?*[\\") || strings.Contains(req.Ref, "..") {
		errs = append(errs, fault.Field("ref", "must be a branch, tag or commit of the project's repository (got %q)", req.Ref))
	}
	if req.Name != "" && (len(req.Name) > 63 || !nameRE.MatchString(req.Name)) {
		errs = append(errs, fault.Field("name", "must be at most 63 lower-case letters, digits or '-' (got %q)", req.Name))
	}
	if req.Image != "" {
		j.Image = req.Image
	}
	if len(req.Command) > 0 {
		j.Command = req.Command
	}
	if len(j.Command) == 0 {
		errs = append(errs, fault.Field("command", "required: the project's lifecycle template sets none"))
	}
	if req.GPUs != nil {
		j.GPUs = *req.GPUs
	}
	if j.GPUs < 0 || j.GPUs > MaxGPUsPerReplica {
		errs = append(errs, fault.Field("gpus", "must be between 0 and %d per replica (got %d)", MaxGPUsPerReplica, j.GPUs))
	}
	if req.GPUType != "" {
		j.GPUType = req.GPUType
	}
	if j.GPUs == 0 {
		j.GPUType = ""
	} else if j.GPUType == "" {
		j.GPUType = lifecycle.GPUTypeAny
	}
	cpu, mem := def.Resources.CPU, def.Resources.Memory
	if req.CPU != "" {
		cpu = lifecycle.Quantity(req.CPU)
	}
	if req.Memory != "" {
		mem = lifecycle.Quantity(req.Memory)
	}
	var err error
	if j.CPUMillis, err = cpu.MilliCPU(); err != nil || j.CPUMillis <= 0 {
		errs = append(errs, fault.Field("cpu", "must be a positive CPU quantity such as 4 or 500m (got %q)", cpu))
	}
	if j.MemoryBytes, err = mem.Bytes(); err != nil || j.MemoryBytes <= 0 {
		errs = append(errs, fault.Field("memory", "must be a positive memory quantity such as 16Gi (got %q)", mem))
	}
	if req.Replicas != 0 {
		j.Replicas = req.Replicas
	}
	if j.Replicas < 1 || j.Replicas > MaxReplicas {
		errs = append(errs, fault.Field("replicas", "must be between 1 and %d (got %d)", MaxReplicas, j.Replicas))
	}
	if req.Timeout != 0 {
		j.Timeout = req.Timeout
	}
	if j.Timeout < 0 || j.Timeout > MaxTimeout {
		errs = append(errs, fault.Field("timeout", "must be between 0 (none) and %s (got %s)", MaxTimeout, j.Timeout))
	}
	if req.Retries != nil {
		j.Retries = *req.Retries
	}
	if j.Retries < 0 || j.Retries > MaxRetries {
		errs = append(errs, fault.Field("retries", "must be between 0 and %d (got %d)", MaxRetries, j.Retries))
	}
	if req.Preemptible != nil {
		j.Preemptible = *req.Preemptible
	}
	if req.Priority != "" {
		pc, err := scheduler.ParsePriorityClass(req.Priority)
		if err != nil {
			errs = append(errs, fault.Field("priority", "must be one of interactive, production, batch, preemptible (got %q)", req.Priority))
		}
		j.Priority = pc
	}
	if req.EstimatedDuration < 0 {
		errs = append(errs, fault.Field("estimatedDuration", "must not be negative"))
	}
	for k := range j.Env {
		if !envRE.MatchString(k) {
			errs = append(errs, fault.Field("env."+k, "must be a variable name: letters, digits and '_', not starting with a digit"))
			continue
		}
		for _, r := range reservedEnv {
			if strings.HasPrefix(k, r) {
				errs = append(errs, fault.Field("env."+k, "is set by mlportal for every job and cannot be overridden"))
			}
		}
	}
	for i, o := range j.Outputs {
		if o == "" || strings.HasPrefix(o, "/") || strings.Contains(o, "..") {
			errs = append(errs, fault.Field("outputs", "entry %d must be a relative path inside the job's workspace (got %q)", i, o))
		}
	}
	return j, errs
}

// checkCeiling refuses a job that could never run: more GPUs of a type
// than the team may ever hold.
func checkCeiling(t team.Team, j Job) []fault.FieldError {
	if j.GPUs == 0 || len(t.GPUQuota) == 0 {
		return nil // no quota configured: the cluster's capacity decides
	}
	best := 0
	for _, q := range t.GPUQuota {
		if j.GPUType != lifecycle.GPUTypeAny && q.GPUType != j.GPUType {
			continue
		}
		if q.BorrowingLimit < 0 {
			return nil
		}
		best = max(best, q.Nominal+q.BorrowingLimit)
	}
	if j.TotalGPUs() > best {
		what := "GPUs of type " + j.GPUType
		if j.GPUType == lifecycle.GPUTypeAny {
			what = "GPUs of any one type"
		}
		return []fault.FieldError{fault.Field("gpus", "%d GPUs (%d × %d replicas) is more than team %s may ever hold: %d %s (nominal + borrowing limit); ask a platform admin to raise the quota (mlportal quota request)",
			j.TotalGPUs(), j.GPUs, max(j.Replicas, 1), t.Name, best, what)}
	}
	return nil
}

// Get returns a job to anyone with the read verb.
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (Job, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return Job{}, fault.Denied("this credential cannot read jobs; use a token with the read verb")
	}
	return s.repo.GetJob(ctx, id)
}

// List returns a page of jobs by id.
func (s *Service) List(ctx context.Context, p identity.Principal, f Filter, page pagination.Page) ([]Job, string, error) {
	if !p.CanGlobally(identity.VerbRead) {
		return nil, "", fault.Denied("this credential cannot read jobs; use a token with the read verb")
	}
	js, err := s.repo.ListJobs(ctx, f, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	n, next := pagination.Next(len(js), page.Limit, func(i int) string { return js[i].ID })
	return js[:n], next, nil
}

// Cancel stops a job: a queued one is cancelled at once, a running one
// gets SIGTERM and its grace period. Cancelling an ended job is a
// conflict; cancelling a stopping one returns it.
func (s *Service) Cancel(ctx context.Context, p identity.Principal, id string) (Job, error) {
	for {
		j, err := s.repo.GetJob(ctx, id)
		if err != nil {
			return Job{}, err
		}
		t, err := s.teams.GetTeam(ctx, j.Team)
		if err != nil {
			return Job{}, err
		}
		if !p.Can(identity.VerbWrite, t.Membership()) {
			return Job{}, fault.Denied("cancelling a job of team %q needs the member role in it", j.Team)
		}
		if j.State.Final() {
			return Job{}, fault.New(fault.ErrConflict, "job %s has already ended (%s)", id, j.State)
		}
		if j.State == StateStopping && j.StopReason == executor.StopCancel {
			return j, nil
		}
		next := j.Clone()
		now := s.clock.Now().UTC()
		if j.State == StateQueued {
			next.State, next.FinishedAt = StateCancelled, now
			next.Reason = "cancelled by " + p.Actor() + " while queued"
		} else {
			next.State, next.StopReason = StateStopping, executor.StopCancel
			next.Reason = "cancelled by " + p.Actor() + "; stopping"
		}
		next.UpdatedAt, next.Version = now, j.Version+1
		err = s.repo.UpdateJob(ctx, next, j.Version)
		if errors.Is(err, fault.ErrPreconditionFailed) {
			continue // the controller moved it meanwhile: decide again
		}
		if err != nil {
			return Job{}, err
		}
		if s.wake != nil {
			s.wake.Wake()
		}
		return next, nil
	}
}

// Logs writes the job's output to w.
func (s *Service) Logs(ctx context.Context, p identity.Principal, id string, follow bool, w io.Writer) error {
	j, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if j.Attempt == 0 {
		return fault.New(fault.ErrConflict, "job %s has not started yet, so it has no output: %s", id, j.Reason)
	}
	if !j.State.Holds() && s.archive != nil { // ended, or queued again: the attempts' output is archived
		rc, err := s.archive.Open(ctx, id)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(w, rc)
		return err
	}
	return s.logs.Logs(ctx, id, follow, w)
}

// WithLogArchive makes Logs read ended jobs' output from the archive.
func (s *Service) WithLogArchive(a LogArchive) *Service {
	s.archive = a
	return s
}
