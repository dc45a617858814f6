package quota

import (
	"cmp"
	"slices"

	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/team"
)

// Usage is a team's GPU quota next to what its jobs hold now.
type Usage struct {
	Team  string
	Types []TypeUsage
	// Projects are the team's projects and their namespaces' GPU quotas.
	Projects []ProjectQuota
	// Ceiling is the most GPUs the team's projects may hold together.
	Ceiling int
}

// TypeUsage is one GPU type's quota and use.
type TypeUsage struct {
	GPUType string
	// Nominal GPUs are guaranteed; BorrowingLimit more may be borrowed from
	// other teams' idle quota.
	Nominal, BorrowingLimit int
	// InUse is held by the team's starting, running and stopping jobs;
	// Borrowed is the part of it beyond Nominal; Available is what of
	// Nominal is idle.
	InUse, Borrowed, Available int
	Jobs                       []JobUse
}

// JobUse is a job holding GPUs.
type JobUse struct {
	ID, Name, Project string
	GPUs              int // GPUs × replicas
	State             jobs.State
}

// ProjectQuota is a project's namespace GPU quota.
type ProjectQuota struct {
	Name, Namespace string
	GPUs            int
}

// Compute sums held (the team's jobs) per GPU type against the team's
// quota. Types the team uses without a quota entry appear with nominal 0:
// all of it is borrowed. It is pure; jobs that hold no GPUs are ignored.
func Compute(t team.Team, held []jobs.Job) []TypeUsage {
	byType := map[string]*TypeUsage{}
	var out []*TypeUsage
	get := func(gpuType string) *TypeUsage {
		if u, ok := byType[gpuType]; ok {
			return u
		}
		u := &TypeUsage{GPUType: gpuType}
		byType[gpuType] = u
		out = append(out, u)
		return u
	}
	for _, q := range t.GPUQuota {
		u := get(q.GPUType)
		u.Nominal, u.BorrowingLimit = q.Nominal, q.BorrowingLimit
	}
	for _, j := range held {
		if !j.State.Holds() || j.TotalGPUs() == 0 {
			continue
		}
		u := get(j.GPUType)
		u.InUse += j.TotalGPUs()
		u.Jobs = append(u.Jobs, JobUse{ID: j.ID, Name: j.Name, Project: j.Project, GPUs: j.TotalGPUs(), State: j.State})
	}
	res := make([]TypeUsage, len(out))
	for i, u := range out {
		u.Borrowed = max(u.InUse-u.Nominal, 0)
		u.Available = max(u.Nominal-u.InUse, 0)
		slices.SortFunc(u.Jobs, func(a, b JobUse) int { return cmp.Or(cmp.Compare(b.GPUs, a.GPUs), cmp.Compare(a.ID, b.ID)) })
		res[i] = *u
	}
	slices.SortStableFunc(res, func(a, b TypeUsage) int { return cmp.Compare(a.GPUType, b.GPUType) })
	return res
}
