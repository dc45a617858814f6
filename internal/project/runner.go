package project

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/render"
)

// SCM is a repository host (provider): mlportal's own git server, GitHub.
// Both methods are idempotent, so a saga may redo them after a crash.
type SCM interface {
	// Ensure creates the repository with spec.Files as its first commit,
	// or finds the one it made before for the same project.
	Ensure(ctx context.Context, spec RepoSpec) (Repo, error)
	// Delete removes the project's repository if mlportal made it; a
	// missing repository is not an error.
	Delete(ctx context.Context, team, project string) error
}

// RepoSpec is the repository a project asks for.
type RepoSpec struct {
	Team, Project, Description string
	Files                      map[string][]byte // path → content of the first commit
	Author, Message            string            // "Name <email>" of the requester; the commit message
	// Variables and Secrets configure the CI pipeline (GitHub Actions):
	// MLPORTAL_URL and a CI token. The local provider runs no CI and
	// ignores them.
	Variables, Secrets map[string]string
}

// Repo is a created repository.
type Repo struct {
	CloneURL, WebURL, CatalogInfoURL string
	Commit                           string // the first commit
}

// CITokens issues the token a project's CI pipeline calls mlportal with.
type CITokens interface {
	Issue(ctx context.Context, team, project string) (string, error)
}

// Namespaces makes a project's namespace with its quota (q: the project's
// GPUs, CPU and memory; the rest is configured), limits, network policy and
// access, idempotently, and returns its name. A zero q is a project
// recorded before projects had quotas: it gets the configured default.
// Delete removes the namespace and everything in it (a missing one is fine).
type Namespaces interface {
	Ensure(ctx context.Context, team, project string, q Quota) (string, error)
	Delete(ctx context.Context, team, project string) error
}

// LocalModeDetail is the namespace step's detail when no cluster is configured.
const LocalModeDetail = "local mode: quota recorded by mlportal"

// RunnerConfig are a Runner's collaborators.
type RunnerConfig struct {
	Repo      Repository
	Teams     Memberships
	Templates Templates
	// SCMs are the repository hosts by name (SCMLocal, SCMGitHub).
	SCMs map[string]SCM
	// CITokens, when set, gives providers with a CI runner (GitHub) a
	// token for the pipeline.
	CITokens CITokens
	// Namespaces is nil in local mode (no cluster): the step is skipped.
	Namespaces Namespaces
	// Skeleton is the project skeleton with ${{ values.x }} placeholders.
	Skeleton fs.FS
	// BaseURL is mlportal's external URL, for clone URLs and the skeleton.
	BaseURL string
	Clock   clock.Clock
	Log     *slog.Logger
	// Owner names this runner in saga leases (e.g. host and pid);
	// "" is a random name.
	Owner string
	// LeaseTTL is how long a runner's claim on a saga lasts without being
	// renewed (0 = DefaultLeaseTTL). A replica that dies mid-saga leaves
	// it to the others after this long.
	LeaseTTL time.Duration
}

// DefaultLeaseTTL is RunnerConfig.LeaseTTL's default.
const DefaultLeaseTTL = 30 * time.Second

// Runner executes projects' sagas: steps in order, persisting every
// transition. A lease in the store makes one runner (replica) at a time
// run a project's saga; optimistic versions make a runner that lost its
// lease stop at its next write.
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
	if cfg.Owner == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.Owner = "runner-" + hex.EncodeToString(b[:])
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	return &Runner{cfg: cfg, running: map[string]bool{}}
}

// Start lets Enqueue run sagas until ctx is cancelled, resumes every
// project a previous process left unfinished and, every LeaseTTL, takes
// over the sagas of replicas that stopped renewing their leases.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	if err := r.Resume(ctx); err != nil {
		return err
	}
	go func() { // not in wg: Wait is for sagas; this loop ends with ctx
		t := time.NewTicker(r.cfg.LeaseTTL) // cadence only; lease decisions use the injected clock
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.Resume(ctx); err != nil && ctx.Err() == nil {
					r.cfg.Log.Warn("resume project sagas", "err", err)
				}
			}
		}
	}()
	return nil
}

// Resume enqueues every unfinished project (crash recovery); projects
// another live runner holds are left to it.
func (r *Runner) Resume(ctx context.Context) error {
	ps, err := r.cfg.Repo.ListUnfinishedProjects(ctx)
	if err != nil {
		return fmt.Errorf("list unfinished projects: %w", err)
	}
	for _, p := range ps {
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

// Run executes the project's pending steps in order (or, for a deleting
// project, undoes them in reverse) and returns when the saga finished, a
// step failed, another runner holds the project, or ctx was cancelled (the
// step then stays running, to be redone by whoever resumes it).
func (r *Runner) Run(ctx context.Context, id string) error {
	ctx, release, ok, err := r.lease(ctx, id)
	if err != nil || !ok {
		return err
	}
	defer release()
	p, err := r.cfg.Repo.GetProject(ctx, id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	switch {
	case p.Status == StatusDeleting:
		return ignoreLost(r.undo(ctx, &p))
	case p.Status.Terminal():
		return nil
	}
	if p.Status != StatusRunning {
		r.cfg.Log.InfoContext(ctx, "running project saga", "project", p.ID, "team", p.Team, "name", p.Name, "owner", r.cfg.Owner)
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

// lease claims the project for this runner and keeps the claim renewed
// until release; the returned ctx ends if the claim is lost. ok is false
// when another live runner holds the project.
func (r *Runner) lease(ctx context.Context, id string) (context.Context, func(), bool, error) {
	claim := func(ctx context.Context) (bool, error) {
		now := r.cfg.Clock.Now()
		return r.cfg.Repo.LeaseProject(ctx, id, r.cfg.Owner, now, now.Add(r.cfg.LeaseTTL))
	}
	ok, err := claim(ctx)
	if err != nil || !ok {
		return ctx, nil, false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(r.cfg.LeaseTTL / 3) // cadence only; lease decisions use the injected clock
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if ok, err := claim(ctx); err != nil || !ok {
					r.cfg.Log.Warn("lost the lease on a project saga; another runner continues it", "project", id, "err", err)
					cancel()
					return
				}
			}
		}
	}()
	release := func() {
		close(done)
		cancel()
		if err := r.cfg.Repo.ReleaseProject(context.WithoutCancel(ctx), id, r.cfg.Owner); err != nil {
			r.cfg.Log.Warn("release project lease", "project", id, "err", err)
		}
	}
	return ctx, release, true, nil
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

// undo removes what the project's steps made, last step first, recording
// each, then the project itself. A failure stops it with the project
// failed and the step saying why; deleting again continues.
func (r *Runner) undo(ctx context.Context, p *Project) error {
	for i := len(p.Steps) - 1; i >= 0; i-- {
		st := &p.Steps[i]
		if st.Status == StepUndone || st.Status == StepPending {
			continue // nothing of it exists
		}
		detail, err := r.undoStep(ctx, p, st.Name)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st = &p.Steps[i]
		st.FinishedAt = r.cfg.Clock.Now().UTC()
		if err != nil {
			r.cfg.Log.Warn("undoing project step failed", "project", p.ID, "step", st.Name, "err", err)
			st.Status = StepFailed
			st.Error = "deleting the project stopped: " + strings.TrimSuffix(explainUndo(st.Name, err), ".") +
				". Fix it, then run `mlportal project delete " + p.ID + "` again."
			p.Status = StatusFailed
			return r.save(context.WithoutCancel(ctx), p)
		}
		st.Status, st.Error, st.Detail = StepUndone, "", detail
		if err := r.save(ctx, p); err != nil {
			return err
		}
	}
	if err := r.cfg.Repo.DeleteProject(ctx, p.ID); err != nil && !errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("delete project %s: %w", p.ID, err)
	}
	r.cfg.Log.InfoContext(ctx, "project deleted", "project", p.ID, "team", p.Team, "name", p.Name)
	return nil
}

func (r *Runner) undoStep(ctx context.Context, p *Project, step string) (string, error) {
	switch step {
	case StepRepository:
		scm, err := r.scm(p)
		if err != nil {
			return "", err
		}
		if err := scm.Delete(ctx, p.Team, p.Name); err != nil {
			return "", err
		}
		return "repository deleted", nil
	case StepNamespace:
		if r.cfg.Namespaces == nil || p.Namespace == "" && p.Step(StepNamespace).Status == StepSkipped {
			return "nothing to delete in local mode", nil
		}
		if err := r.cfg.Namespaces.Delete(ctx, p.Team, p.Name); err != nil {
			return "", err
		}
		return "namespace deleted with everything in it", nil
	case StepCatalog:
		return "the catalog drops the System when its catalog-info.yaml is gone", nil
	}
	return "nothing to undo", nil
}

func explainUndo(step string, err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Error()
	}
	return map[string]string{
		StepRepository: "mlportal could not delete the project's repository",
		StepNamespace:  "mlportal could not delete the project's namespace",
	}[step] + "; the server log has the cause"
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
		ns, err := r.cfg.Namespaces.Ensure(ctx, p.Team, p.Name, p.Quota)
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

func (r *Runner) scm(p *Project) (SCM, error) {
	if scm, ok := r.cfg.SCMs[p.SCM]; ok && scm != nil {
		return scm, nil
	}
	if p.SCM == SCMLocal {
		return nil, fault.New(fault.ErrUnavailable, "the mlportal server cannot create git repositories because git is not installed on it; ask your platform team to install git")
	}
	return nil, fault.New(fault.ErrUnavailable, "repository host %q is not configured on this mlportal server; ask your platform team to configure mlportal.scm.%s", p.SCM, p.SCM)
}

func (r *Runner) repository(ctx context.Context, p *Project) (StepStatus, string, error) {
	scm, err := r.scm(p)
	if err != nil {
		return "", "", err
	}
	values, err := r.values(ctx, p)
	if err != nil {
		return "", "", err
	}
	files, err := render.Render(r.cfg.Skeleton, values)
	if err != nil {
		return "", "", fmt.Errorf("render the skeleton: %w", err)
	}
	spec := RepoSpec{Team: p.Team, Project: p.Name, Description: values["description"], Files: files, Author: p.CreatedBy,
		Message: "Create " + p.Name + " from the mlportal ML project skeleton",
		// mlportal serves MLflow's API itself, at its own URL.
		Variables: map[string]string{"MLPORTAL_URL": r.cfg.BaseURL, "MLFLOW_TRACKING_URI": r.cfg.BaseURL}}
	if r.cfg.CITokens != nil && p.SCM != SCMLocal {
		tok, err := r.cfg.CITokens.Issue(ctx, p.Team, p.Name)
		if err != nil {
			return "", "", fmt.Errorf("issue the CI token: %w", err)
		}
		spec.Secrets = map[string]string{"MLPORTAL_TOKEN": tok}
	}
	repo, err := scm.Ensure(ctx, spec)
	if err != nil {
		return "", "", err
	}
	p.RepoURL, p.WebURL, p.CatalogInfoURL = repo.CloneURL, repo.WebURL, repo.CatalogInfoURL
	commit := repo.Commit
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
