package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/gitserver"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/team"
	"github.com/mlportal/mlportal/internal/tenancy"
	"github.com/mlportal/mlportal/internal/token"
)

// teamGetter reads a team (its cost centre labels the namespace).
type teamGetter interface {
	GetTeam(ctx context.Context, name string) (team.Team, error)
}

// namespaces adapts tenancy.Provisioner to project.Namespaces with the
// configured default quota and limits.
type namespaces struct {
	prov   *tenancy.Provisioner
	teams  teamGetter
	quota  tenancy.Quota
	limits tenancy.Limits
	peer   tenancy.Peer
}

var _ project.Namespaces = (*namespaces)(nil)

// Ensure applies the project's namespace, quota (the project's GPUs, CPU
// and memory over the configured default), limits, network policy and team
// access.
func (n *namespaces) Ensure(ctx context.Context, teamName, projectName string, pq project.Quota) (string, error) {
	t, err := n.teams.GetTeam(ctx, teamName)
	if err != nil {
		return "", err
	}
	q := n.quota
	if pq != (project.Quota{}) { // zero: a project recorded before quotas were, which keeps the default
		q.GPUs = pq.GPUs
	}
	if pq.CPU != "" {
		q.CPU = pq.CPU
	}
	if pq.Memory != "" {
		q.Memory = pq.Memory
	}
	res, err := n.prov.Apply(ctx, tenancy.Spec{Team: teamName, Project: projectName, CostCenter: t.CostCenter,
		Quota: q, Limits: n.limits, APIPeer: n.peer})
	if err != nil {
		return "", err
	}
	return res.Namespace, nil
}

// projectOptions are the project service's options from configuration: the
// default quota (mlportal.projects.defaultQuota). The composition root
// passes them to project.NewService.
func projectOptions(cfg config.Config) []project.Option {
	q := cfg.Projects.DefaultQuota
	scms := []string{project.SCMLocal}
	if cfg.SCM.GitHub.Enabled() {
		scms = append(scms, project.SCMGitHub)
	}
	return []project.Option{project.WithDefaultQuota(project.Quota{GPUs: q.GPUs, CPU: q.CPU, Memory: q.Memory}),
		project.WithSCMs(cfg.SCM.Default, scms...)}
}

// Client-side rate limits towards the apiserver: the namespace step's, and
// the Kubernetes executor's, which creates a pod per admitted replica and
// would otherwise cap admissions below the scheduler's pace (the
// apiserver's priority and fairness still protects it).
const (
	kubeQPS       = 100
	kubeBurst     = 200
	executorQPS   = 1000
	executorBurst = 2000
)

// newNamespaces returns the cluster adapter, or nil in local mode (no
// kubeconfig). It checks the configured quota once, at start-up.
func newNamespaces(cfg config.Config, teams teamGetter, log *slog.Logger) (project.Namespaces, error) {
	q, l := cfg.Projects.DefaultQuota, cfg.Projects.Limits
	ns := &namespaces{teams: teams,
		quota: tenancy.Quota{CPU: q.CPU, Memory: q.Memory, GPUs: q.GPUs, Pods: q.Pods, Storage: q.Storage, PVCs: q.PVCs},
		limits: tenancy.Limits{MaxGPUsPerContainer: l.MaxGPUsPerContainer, DefaultCPU: l.DefaultCPU, DefaultMemory: l.DefaultMemory,
			MaxCPU: l.MaxCPU, MaxMemory: l.MaxMemory}}
	p := cfg.Projects.APIPeer
	ns.peer = tenancy.Peer{CIDR: p.CIDR, NamespaceLabels: p.NamespaceLabels, PodLabels: p.PodLabels, Port: p.Port}
	probe := tenancy.Spec{Team: "team", Project: "project", Quota: ns.quota, Limits: ns.limits, APIPeer: ns.peer}
	if errs := probe.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("mlportal.projects: %s: %s", errs[0].Field, errs[0].Reason)
	}
	if cfg.Kubernetes.Kubeconfig == "" {
		log.Info("no cluster configured (mlportal.kubernetes.kubeconfig): projects run in local mode")
		return nil, nil
	}
	cs, err := kubeClient(cfg, kubeQPS, kubeBurst)
	if err != nil {
		return nil, err
	}
	ns.prov = tenancy.New(cs, log)
	return ns, nil
}

// kubeClient is the configured cluster's client, limited to qps requests
// per second (bursts of burst) on mlportal's side.
func kubeClient(cfg config.Config, qps float32, burst int) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubernetes.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("mlportal.kubernetes.kubeconfig: %w", err)
	}
	// client-go's default limiter (5 requests/s, bursts of 10) made every
	// project wait about 1.5 s for its applies and 50 concurrent ones
	// over a minute (docs/benchmarks.md); the apiserver's own priority and
	// fairness protects it.
	rc.QPS, rc.Burst = qps, burst
	// Protobuf, not JSON: a third of the bytes and far less CPU to encode
	// and decode on both sides, for the built-in kinds mlportal uses.
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("mlportal.kubernetes.kubeconfig: %w", err)
	}
	return cs, nil
}

// Delete removes the project's namespace and everything in it.
func (n *namespaces) Delete(ctx context.Context, teamName, projectName string) error {
	return n.prov.Delete(ctx, teamName, projectName)
}

// localSCM adapts the built-in git server to project.SCM: bare repositories
// at <baseURL>/git/<team>/<project>.git, whose files Backstage reads at
// .../raw/<ref>/<path>.
type localSCM struct {
	repos   *gitserver.Store
	baseURL string
}

var _ project.SCM = localSCM{}

func (l localSCM) Ensure(ctx context.Context, spec project.RepoSpec) (project.Repo, error) {
	commit, err := l.repos.Create(ctx, spec.Team, spec.Project, spec.Files, spec.Author, spec.Message)
	if err != nil {
		return project.Repo{}, err
	}
	clone := l.repos.CloneURL(l.baseURL, spec.Team, spec.Project)
	return project.Repo{CloneURL: clone, WebURL: clone, Commit: commit,
		CatalogInfoURL: clone + "/raw/" + gitserver.Branch + "/catalog-info.yaml"}, nil
}

func (l localSCM) Delete(ctx context.Context, team, project string) error {
	return l.repos.Delete(ctx, team, project)
}

// tokenIssuer is the part of the token service that mints CI and job
// tokens.
type tokenIssuer interface {
	Issue(ctx context.Context, p identity.Principal, req token.IssueRequest) (token.Record, string, error)
	IssueAll(ctx context.Context, is []token.Issuance) ([]string, error)
}

// ciTokens issues the token a project's pipeline (GitHub Actions) calls
// mlportal with: scoped to the project's team with read and write, for the
// longest lifetime tokens may have; listed (and revocable) under the
// subject ci:<team>/<project>.
type ciTokens struct {
	tokens tokenIssuer
	ttl    time.Duration // mlportal.auth.tokens.maxTTL
}

func (c ciTokens) Issue(ctx context.Context, team, proj string) (string, error) {
	return teamToken(ctx, c.tokens, "ci:"+team+"/"+proj, "CI pipeline of "+team+"/"+proj, team, c.ttl)
}

// teamToken issues, on mlportal's own authority, a token of the team with
// read and write, listed (and revocable) under subject: what machines that
// mlportal starts for a team — pipelines, jobs — call it with.
func teamToken(ctx context.Context, tokens tokenIssuer, subject, name, team string, ttl time.Duration) (string, error) {
	in := teamTokenIssuance(subject, name, team, ttl)
	_, tok, err := tokens.Issue(ctx, in.By, in.Request)
	return tok, err
}

// teamTokenIssuance is teamToken's token: read and write on team, listed
// under subject.
func teamTokenIssuance(subject, name, team string, ttl time.Duration) token.Issuance {
	return token.Issuance{By: identity.Principal{Subject: subject, Kind: identity.KindAdminToken, Admin: true},
		Request: token.IssueRequest{Name: name, Team: team, Verbs: []identity.Verb{identity.VerbRead, identity.VerbWrite}, TTL: ttl}}
}

// runnerOwner names this process in saga leases: the host (the pod, on
// Kubernetes), so that a restarted server resumes its own sagas at once
// instead of waiting for its old leases to expire.
func runnerOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "" // a random name
	}
	return host
}
