package project

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/team"
)

// Quota is what a project's namespace may request in all: GPUs, CPU and
// memory (Kubernetes quantities). On a cluster it becomes the namespace's
// ResourceQuota; in local mode mlportal records and enforces it.
type Quota struct {
	GPUs   int    `json:"gpus"`
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// DefaultQuota mirrors config.Default()'s mlportal.projects.defaultQuota; the
// composition root passes the configured one with WithDefaultQuota.
var DefaultQuota = Quota{GPUs: 4, CPU: "32", Memory: "128Gi"}

// Option configures a Service.
type Option func(*Service)

// WithDefaultQuota sets the quota of a project that asks for none, and the
// GPU ceiling of a team without gpuQuota entries
// (mlportal.projects.defaultQuota).
func WithDefaultQuota(q Quota) Option { return func(s *Service) { s.defaultQuota = q } }

// WithSCMs sets the repository hosts projects may ask for and the one they
// get by default (mlportal.scm); without it only SCMLocal exists.
func WithSCMs(def string, available ...string) Option {
	return func(s *Service) { s.defaultSCM, s.scms = def, available }
}

// Teams is what the service needs of the team directory: membership for
// authorization and the team itself for its GPU quota.
type Teams interface {
	Memberships
	Get(ctx context.Context, p identity.Principal, name string) (team.Team, error)
}

// quotaReader reads a team's quota on behalf of the service, after the
// caller was authorized to write in the team (a write-only token cannot
// read the directory, yet its projects must be checked).
var quotaReader = identity.Principal{Subject: "system:mlportal/projects"}

// QuotaRequest is the quota a caller asks for; absent (nil, "") fields
// take the default.
type QuotaRequest struct {
	GPUs   *int
	CPU    string
	Memory string
}

// resolve fills the fields the request left out from def.
func (r *QuotaRequest) resolve(def Quota) Quota {
	if r == nil {
		return def
	}
	out := Quota{GPUs: def.GPUs, CPU: r.CPU, Memory: r.Memory}
	if r.GPUs != nil {
		out.GPUs = *r.GPUs
	}
	if out.CPU == "" {
		out.CPU = def.CPU
	}
	if out.Memory == "" {
		out.Memory = def.Memory
	}
	return out
}

func (q QuotaRequest) validate() []fault.FieldError {
	var errs []fault.FieldError
	if q.GPUs != nil && (*q.GPUs < 0 || *q.GPUs > 1024) {
		errs = append(errs, fault.Field("quota.gpus", "must be 0-1024 (got %d)", *q.GPUs))
	}
	if _, err := lifecycle.Quantity(q.CPU).MilliCPU(); q.CPU != "" && err != nil {
		errs = append(errs, fault.Field("quota.cpu", "must be a CPU quantity such as 8 or 500m (got %q)", q.CPU))
	}
	if _, err := lifecycle.Quantity(q.Memory).Bytes(); q.Memory != "" && err != nil {
		errs = append(errs, fault.Field("quota.memory", "must be a memory quantity such as 64Gi (got %q)", q.Memory))
	}
	return errs
}

// Ceiling is the most GPUs a team's projects may hold together.
type Ceiling struct {
	Team      string
	Nominal   int
	Borrowing int
	// Default is set when the team has no gpuQuota entries and the
	// ceiling is the default project quota's GPUs (in Nominal).
	Default bool
}

// GPUs is the ceiling.
func (c Ceiling) GPUs() int { return c.Nominal + c.Borrowing }

func (c Ceiling) String() string {
	if c.Default {
		return fmt.Sprintf("team %s's ceiling of %d GPUs (it has no gpuQuota, so the default project quota applies)", c.Team, c.GPUs())
	}
	return fmt.Sprintf("team %s's ceiling of %d GPUs (nominal %d + borrowing %d)", c.Team, c.GPUs(), c.Nominal, c.Borrowing)
}

// CeilingOf returns a team's GPU ceiling: the sum over its gpuQuota entries
// of nominal + borrowingLimit, or defaultGPUs when it has none.
func CeilingOf(t team.Team, defaultGPUs int) Ceiling {
	c := Ceiling{Team: t.Name}
	if len(t.GPUQuota) == 0 {
		c.Nominal, c.Default = defaultGPUs, true
		return c
	}
	for _, q := range t.GPUQuota {
		c.Nominal += q.Nominal
		c.Borrowing += q.BorrowingLimit
	}
	return c
}

// CheckCeiling decides whether a project asking for gpus fits the ceiling
// beside the team's other projects (held: name → GPUs). It is pure; the
// error is fault.ErrInvalid on field quota.gpus naming the limit.
func CheckCeiling(c Ceiling, gpus int, held map[string]int) error {
	const raise = "ask a platform admin to raise the team's quota"
	if gpus > c.GPUs() {
		return fault.Invalid("the project's quota is above its team's ceiling",
			fault.Field("quota.gpus", "%d is above %s; %s", gpus, c, raise))
	}
	total, names := gpus, make([]string, 0, len(held))
	for n, g := range held {
		if g > 0 {
			total += g
			names = append(names, n)
		}
	}
	if total <= c.GPUs() {
		return nil
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s (%d)", n, held[n])
	}
	return fault.Invalid("the team's projects would hold more GPUs than its ceiling",
		fault.Field("quota.gpus", "%d more would make %d, above %s; projects %s already hold %d; free some or %s",
			gpus, total, c, strings.Join(parts, ", "), total-gpus, raise))
}

// heldGPUs returns the GPUs each of the team's projects holds, except name.
func (s *Service) heldGPUs(ctx context.Context, teamName, except string) (map[string]int, error) {
	held := map[string]int{}
	after := ""
	for {
		ps, err := s.repo.ListProjects(ctx, teamName, after, 500)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Name != except {
				held[p.Name] = p.Quota.GPUs
			}
		}
		if len(ps) < 500 {
			return held, nil
		}
		after = ps[len(ps)-1].ID
	}
}

// checkQuota enforces the team's ceiling on q. The caller holds the team's
// lock, so concurrent creations in one process cannot overshoot together.
func (s *Service) checkQuota(ctx context.Context, teamName, name string, q Quota) error {
	t, err := s.teams.Get(ctx, quotaReader, teamName)
	if err != nil {
		return err
	}
	held, err := s.heldGPUs(ctx, teamName, name)
	if err != nil {
		return err
	}
	return CheckCeiling(CeilingOf(t, s.defaultQuota.GPUs), q.GPUs, held)
}
