package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/executor/kube"
	"github.com/mlportal/mlportal/internal/executor/local"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/token"
	"github.com/mlportal/mlportal/internal/tracking"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/gitserver"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/project"
)

// jobTokens issues the token a job calls mlportal and MLflow with: scoped
// to the job's team with read and write, for the job's timeout and an hour,
// listed under the subject job:<id>.
type jobTokens struct{ tokens tokenIssuer }

var _ jobs.Credentials = jobTokens{}

func (t jobTokens) JobToken(ctx context.Context, j jobs.Job, ttl time.Duration) (string, error) {
	return teamToken(ctx, t.tokens, "job:"+j.ID, "job "+j.ID+" of "+j.Team+"/"+j.Project, j.Team, ttl)
}

// JobTokens issues the tokens of the jobs a cycle admitted with one
// commit; each is what JobToken would issue.
func (t jobTokens) JobTokens(ctx context.Context, js []jobs.Job, ttls []time.Duration) ([]string, error) {
	is := make([]token.Issuance, len(js))
	for i, j := range js {
		is[i] = teamTokenIssuance("job:"+j.ID, "job "+j.ID+" of "+j.Team+"/"+j.Project, j.Team, ttls[i])
	}
	return t.tokens.IssueAll(ctx, is)
}

// projectGetter finds a team's project.
type projectGetter interface {
	GetProjectByName(ctx context.Context, team, name string) (project.Project, error)
}

// workspaces gives the local executor the project's code at the job's
// revision, exported from mlportal's git server once per job.
type workspaces struct {
	repos    *gitserver.Store
	projects projectGetter
	dir      string // <jobs.local.dir>/sources
}

var _ jobs.Workspaces = (*workspaces)(nil)

func (w *workspaces) Prepare(ctx context.Context, j jobs.Job) (string, error) {
	p, err := w.projects.GetProjectByName(ctx, j.Team, j.Project)
	if err != nil {
		return "", err
	}
	if p.SCM != project.SCMLocal || w.repos == nil {
		return "", fault.New(fault.ErrUnavailable, "the local executor runs projects hosted by mlportal's git server; project %s is on %s: run it with the kubernetes executor (mlportal.jobs.executor)", p.Name, p.SCM)
	}
	dir := filepath.Join(w.dir, j.ID)
	if _, err := os.Stat(dir + ".complete"); err == nil {
		return dir, nil // a retry or resume of the same job runs the same code
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if _, err := w.repos.Checkout(ctx, j.Team, j.Project, j.Ref, dir); err != nil {
		return "", err
	}
	return dir, os.WriteFile(dir+".complete", nil, 0o644)
}

// Release removes the job's copy of the code.
func (w *workspaces) Release(_ context.Context, jobID string) error {
	dir := filepath.Join(w.dir, jobID)
	return errors.Join(os.Remove(dir+".complete"), os.RemoveAll(dir))
}

// gpusOnly reports the local machine with unbounded CPU and memory, so
// that the scheduler counts only its GPUs (mlportal.jobs.local.limitCPUAndMemory).
type gpusOnly struct{ executor.Executor }

func (g gpusOnly) Inventory(ctx context.Context) ([]scheduler.Node, error) {
	nodes, err := g.Executor.Inventory(ctx)
	for i := range nodes {
		nodes[i].CPUMillis, nodes[i].MemoryBytes = math.MaxInt64/4, math.MaxInt64/4
	}
	return nodes, err
}

// jobsParts are the jobs service, its controller and the executor to
// close on shutdown.
type jobsParts struct {
	service    *jobs.Service
	controller *jobs.Controller
	close      func() error
}

// newJobs wires the configured executor (mlportal.jobs.executor) under
// the scheduler's controller. The controller records through sched (the
// scheduler's own pool, store.OwnPool) and makes runs and tokens with trk
// and tokens over it; the jobs service uses st.
func newJobs(cfg config.Config, st, sched *store.Store, templates jobs.Templates, tokens tokenIssuer, trk *tracking.Service,
	repos *gitserver.Store, artifacts artifact.Store, q *quotaParts, clk clock.Clock, log *slog.Logger) (*jobsParts, error) {
	lc := cfg.Jobs.Local
	var exe executor.Executor
	var spaces jobs.Workspaces
	closeExec := func() error { return nil }
	checkpoints := "" // Kubernetes: the executor's mount path
	if cfg.Jobs.Executor == "kubernetes" {
		cs, err := kubeClient(cfg, executorQPS, executorBurst)
		if err != nil {
			return nil, err
		}
		kc := cfg.Jobs.Kubernetes
		kex := kube.New(cs, kube.Config{CheckpointPVC: kc.CheckpointClaim, PriorityClassName: kc.PriorityClassName,
			CheckpointGrace: cfg.Jobs.GracePeriod.Duration, Binding: kube.Binding(kc.Binding),
			PodAnnotations: kc.PodAnnotations, Clock: clk}, log)
		exe, closeExec = kex, kex.Close
	} else {
		ex, err := local.New(local.Config{Dir: lc.Dir, CacheDir: lc.CacheDir, NodeName: lc.NodeName, Python: lc.Python,
			FakeGPUs: lc.NvidiaSmi, GPUTypes: lc.GPUTypes, StopGrace: cfg.Jobs.GracePeriod.Duration, Clock: clk}, log)
		if err != nil {
			return nil, fmt.Errorf("mlportal.jobs.local: %w", err)
		}
		exe, closeExec = ex, ex.Close
		if !lc.LimitCPUAndMemory {
			exe = gpusOnly{ex}
		}
		spaces = &workspaces{repos: repos, projects: st, dir: filepath.Join(lc.Dir, "sources")}
		checkpoints = filepath.Join(lc.Dir, "checkpoints")
	}
	pol := scheduler.DefaultPolicy()
	pol.GracePeriod = cfg.Jobs.GracePeriod.Duration
	ctl := jobs.NewController(jobs.ControllerConfig{Repo: sched, Teams: sched, Executor: exe, Runs: jobRuns{tracking: trk},
		Tokens: jobTokens{tokens: tokens}, Spaces: spaces,
		Leases: sched, Logs: jobLogs{store: artifacts}, Pricer: q.pricer(), Clock: clk, Log: log, Policy: pol, Owner: runnerOwner(), TrackingURI: cfg.Server.BaseURL,
		CheckpointRoot: checkpoints, Workers: cfg.Jobs.StartWorkers})
	svc := jobs.NewService(st, st, st, templates, exe, ctl, clk, nil, q.jobOptions()...).WithLogArchive(jobLogs{store: artifacts})
	return &jobsParts{service: svc, controller: ctl, close: closeExec}, nil
}
