package app

import (
	"context"
	"fmt"
	"log/slog"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/team"
	"github.com/mlportal/mlportal/internal/tenancy"
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
		Quota: q, Limits: n.limits})
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
	return []project.Option{project.WithDefaultQuota(project.Quota{GPUs: q.GPUs, CPU: q.CPU, Memory: q.Memory})}
}

// The namespace step's client-side rate limit towards the apiserver.
const (
	kubeQPS   = 100
	kubeBurst = 200
)

// newNamespaces returns the cluster adapter, or nil in local mode (no
// kubeconfig). It checks the configured quota once, at start-up.
func newNamespaces(cfg config.Config, teams teamGetter, log *slog.Logger) (project.Namespaces, error) {
	q, l := cfg.Projects.DefaultQuota, cfg.Projects.Limits
	ns := &namespaces{teams: teams,
		quota: tenancy.Quota{CPU: q.CPU, Memory: q.Memory, GPUs: q.GPUs, Pods: q.Pods, Storage: q.Storage, PVCs: q.PVCs},
		limits: tenancy.Limits{MaxGPUsPerContainer: l.MaxGPUsPerContainer, DefaultCPU: l.DefaultCPU, DefaultMemory: l.DefaultMemory,
			MaxCPU: l.MaxCPU, MaxMemory: l.MaxMemory}}
	probe := tenancy.Spec{Team: "team", Project: "project", Quota: ns.quota, Limits: ns.limits}
	if errs := probe.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("mlportal.projects: %s: %s", errs[0].Field, errs[0].Reason)
	}
	if cfg.Kubernetes.Kubeconfig == "" {
		log.Info("no cluster configured (mlportal.kubernetes.kubeconfig): projects run in local mode")
		return nil, nil
	}
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubernetes.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("mlportal.kubernetes.kubeconfig: %w", err)
	}
	// client-go's default limiter (5 requests/s, bursts of 10) made every
	// project wait about 1.5 s for its applies and 50 concurrent ones
	// over a minute (docs/benchmarks.md); the apiserver's own priority and
	// fairness protects it.
	rc.QPS, rc.Burst = kubeQPS, kubeBurst
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("mlportal.kubernetes.kubeconfig: %w", err)
	}
	ns.prov = tenancy.New(cs, log)
	return ns, nil
}
