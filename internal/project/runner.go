package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/render"
)

// Repos creates git repositories with a first commit; gitserver.Store is one.
// Create must be idempotent: a repository that has commits is left alone.
type Repos interface {
	Create(ctx context.Context, team, project string, files map[string][]byte, author, message string) (string, error)
	CloneURL(baseURL, team, project string) string
}

// Namespaces makes a project's namespace with its quota (q: the project's
// GPUs, CPU and memory; the rest is configured), limits, network policy and
// access, idempotently, and returns its name. A zero q is a project
// recorded before projects had quotas: it gets the configured default.
type Namespaces interface {
	Ensure(ctx context.Context, team, project string, q Quota) (string, error)
}

// LocalModeDetail is the namespace step's detail when no cluster is configured.
const LocalModeDetail = "local mode: quota recorded by mlportal"

// RunnerConfig are a Runner's collaborators.
type RunnerConfig struct {
	Repo      Repository
	Teams     Memberships
	Templates Templates
	Repos     Repos
	// Namespaces is nil in local mode (no cluster): the step is skipped.
	Namespaces Namespaces
	// Skeleton is the project skeleton with ${{ values.x }} placeholders.
	Skeleton fs.FS
	// BaseURL is mlportal's external URL, for clone URLs and the skeleton.
	BaseURL string
	Clock   clock.Clock
	Log     *slog.Logger
}

// Runner executes projects' sagas: steps in order, persisting every
// transition. Optimistic versions keep two runners (replicas) from both
// recording a step: the loser stops and leaves the project to the winner.
type Runner struct {
	cfg RunnerConfig

	mu      sync.Mutex
	ctx     context.Context // set by Start; nil before
	running map[string]bool // id → run again when the current run ends
	wg      sync.WaitGroup
}

var _ Enqueuer = (*Runner)(nil)

// NewRunner returns a Runner; it runs nothing until Start.
func NewRunner(cfg RunnerConfig) *Runner {
	return &Runner{cfg: cfg, running: map[string]bool{}}
}

// Start lets Enqueue run sagas until ctx is cancelled and resumes every
// project a previous process left pending or running.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	return r.Resume(ctx)
}

// Resume enqueues every unfinished project (crash recovery).
func (r *Runner) Resume(ctx context.Context) error {
	ps, err := r.cfg.Repo.ListUnfinishedProjects(ctx)
	if err != nil {
		return fmt.Errorf("list unfinished projects: %w", err)
	}
	for _, p := range ps {
		r.cfg.Log.InfoContext(ctx, "resuming project saga", "project", p.ID, "team", p.Team, "name", p.Name, "status", p.Status)
		r.Enqueue(p.ID)
	}
	return nil
}

// Enqueue runs the project's saga in the background. If it already runs
// here, it runs once more after that (a retry may arrive as a failed run
// ends). Before Start it does nothing: Start resumes the project.
func (r *Runner) Enqueue(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.ctx.Err() != nil {
		return
	}
	if _, ok := r.running[id]; ok {
		r.running[id] = true
		return
	}
	r.running[id] = false
	r.wg.Add(1)
	go func(ctx context.Context) {
		defer r.wg.Done()
		for {
			if err := r.Run(ctx, id); err != nil && ctx.Err() == nil {
				r.cfg.Log.Error("project saga", "project", id, "err", err)
			}
			r.mu.Lock()
			again := r.running[id] && ctx.Err() == nil
			if again {
				r.running[id] = false
			} else {
				delete(r.running, id)
			}
			r.mu.Unlock()
			if !again {
				return
			}
		}
	}(r.ctx)
}

// Wait blocks until every saga Enqueue started has returned.
func (r *Runner) Wait() { r.wg.Wait() }

// errLost means another runner changed the project first.
var errLost = errors.New("another runner owns the project")

// Run executes the project's pending steps in order and returns when the
// saga succeeded, a step failed, or ctx was cancelled (the step then stays
// running, to be redone by Resume).
func (r *Runner) Run(ctx context.Context, id string) error {
	p, err := r.cfg.Repo.GetProject(ctx, id)
	if err != nil {
		return err
	}
	if p.Status.Terminal() {
		return nil
	}
	if p.Status != StatusRunning {
		p.Status = StatusRunning
		if err := r.save(ctx, &p); err != nil {
			return ignoreLost(err)
		}
	}
	for i := range p.Steps {
		if p.Steps[i].Status.Finished() {
			continue
		}
		if err := r.runStep(ctx, &p, i); err != nil {
			return ignoreLost(err)
		}
		if p.Status == StatusFailed {
			return nil
		}
	}
	p.Status = StatusSucceeded
	return ignoreLost(r.save(ctx, &p))
}

func ignoreLost(err error) error {
	if errors.Is(err, errLost) {
		return nil
	}
	return err
}

func (r *Runner) runStep(ctx context.Context, p *Project, i int) error {
	st := &p.Steps[i]
	st.Status, st.Attempts, st.Error, st.Detail = StepRunning, st.Attempts+1, "", ""
	st.StartedAt, st.FinishedAt = r.cfg.Clock.Now().UTC(), timeZero
	if err := r.save(ctx, p); err != nil {
		return err
	}
	status, detail, err := r.do(ctx, p, st.Name)
	if ctx.Err() != nil {
		return ctx.Err() // stopped: the step stays running and is redone on resume
	}
	st = &p.Steps[i]
	st.FinishedAt = r.cfg.Clock.Now().UTC()
	if err != nil {
		r.cfg.Log.Warn("project step failed", "project", p.ID, "step", st.Name, "attempt", st.Attempts, "err", err)
		st.Status, st.Error = StepFailed, explain(st.Name, p.ID, err)
		p.Status = StatusFailed
	} else {
		st.Status, st.Detail = status, detail
	}
	return r.save(context.WithoutCancel(ctx), p)
}

func (r *Runner) save(ctx context.Context, p *Project) error {
	next := p.Clone()
	next.UpdatedAt = r.cfg.Clock.Now().UTC()
	next.Version = p.Version + 1
	if err := r.cfg.Repo.UpdateProject(ctx, next, p.Version); err != nil {
		if errors.Is(err, fault.ErrPreconditionFailed) {
			return errLost
		}
		return fmt.Errorf("record project %s: %w", p.ID, err)
	}
	*p = next
	return nil
}

// do performs one step and returns its final status and detail.
func (r *Runner) do(ctx context.Context, p *Project, step string) (StepStatus, string, error) {
	switch step {
	case StepRepository:
		return r.repository(ctx, p)
	case StepNamespace:
		if r.cfg.Namespaces == nil {
			return StepSkipped, LocalModeDetail, nil
		}
		ns, err := r.cfg.Namespaces.Ensure(ctx, p.Team, p.Name, p.Quota())
		if err != nil {
			return "", "", err
		}
		p.Namespace = ns
		return StepDone, "namespace " + ns + " with quota, limits, network policy and team access", nil
	case StepBinding:
		return StepDone, fmt.Sprintf("lifecycle template %s %s%s", p.Template, p.TemplateVersion, overridesNote(p.Overrides)), nil
	case StepCatalog:
		p.EntityRef = "system:default/" + p.Name
		return StepDone, "catalog-info.yaml registers the Backstage System " + p.EntityRef, nil
	}
	return "", "", fmt.Errorf("unknown step %q", step)
}

func overridesNote(o lifecycle.Overrides) string {
	if o == (lifecycle.Overrides{}) {
		return ""
	}
	return " with the project's overrides"
}

func (r *Runner) repository(ctx context.Context, p *Project) (StepStatus, string, error) {
	if r.cfg.Repos == nil {
		return "", "", fault.New(fault.ErrUnavailable, "the mlportal server cannot create git repositories because git is not installed on it; ask your platform team to install git")
	}
	values, err := r.values(ctx, p)
	if err != nil {
		return "", "", err
	}
	files, err := render.Render(r.cfg.Skeleton, values)
	if err != nil {
		return "", "", fmt.Errorf("render the skeleton: %w", err)
	}
	commit, err := r.cfg.Repos.Create(ctx, p.Team, p.Name, files, p.CreatedBy, "Create "+p.Name+" from the mlportal ML project skeleton")
	if err != nil {
		return "", "", err
	}
	p.RepoURL = r.cfg.Repos.CloneURL(r.cfg.BaseURL, p.Team, p.Name)
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return StepDone, "first commit " + commit + " at " + p.RepoURL, nil
}

// values are the skeleton's placeholders (scaffolder-templates/ml-project/VALUES.md).
func (r *Runner) values(ctx context.Context, p *Project) (map[string]string, error) {
	tpl, err := r.cfg.Templates.Get(p.Template, p.TemplateVersion)
	if err != nil {
		return nil, err
	}
	res, errs := lifecycle.Merge(tpl, p.Overrides)
	if len(errs) > 0 {
		return nil, fault.Invalid("the project's overrides no longer fit its lifecycle template", errs...)
	}
	m, err := r.cfg.Teams.Membership(ctx, p.Team)
	if err != nil {
		return nil, err
	}
	owner := m.BackstageGroup
	if owner == "" {
		owner = "group:default/" + p.Team
	}
	desc := p.Description
	if desc == "" {
		desc = "ML project " + p.Name + " of team " + p.Team
	}
	job := res.Spec.Job
	gpuType := job.Resources.GPUType
	if job.Resources.GPU == 0 {
		gpuType = ""
	}
	return map[string]string{
		"name": p.Name, "team": p.Team, "owner": owner, "description": desc, "modelName": p.Name,
		"framework": "scikit-learn", "lifecycleTemplate": res.Name, "lifecycleVersion": res.Version,
		"gpuCount": strconv.Itoa(job.Resources.GPU), "gpuType": gpuType, "image": job.Image,
		"mlportalUrl": r.cfg.BaseURL, "pythonVersion": "3.11", "trainTimeout": job.Timeout.String(),
	}, nil
}

// explain turns a step's error into words a data scientist can act on;
// the log has the detail.
func explain(step, id string, err error) string {
	retry := fmt.Sprintf(" Fix it, then run `mlportal project retry %s`.", id)
	if fe, ok := fault.As(err); ok {
		return strings.TrimSuffix(fe.Error(), ".") + "." + retry
	}
	what := map[string]string{
		StepRepository: "mlportal could not create the project's git repository",
		StepNamespace:  "mlportal could not prepare the project's namespace on the cluster",
		StepBinding:    "mlportal could not record the lifecycle template",
		StepCatalog:    "mlportal could not register the project in the catalog",
	}[step]
	return what + "; this is usually temporary, so retry it with `mlportal project retry " + id +
		"`. If it fails again, give your platform team this project id: the server log has the cause."
}
