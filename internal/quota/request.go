package quota

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/team"
)

// Status is where a quota request stands.
type Status string

// Request statuses: pending → approved | denied; approved → expired when a
// temporary grant ends.
const (
	StatusPending  Status = "pending"
	StatusApproved Status = "approved"
	StatusDenied   Status = "denied"
	StatusExpired  Status = "expired"
)

// Statuses lists every status.
var Statuses = []Status{StatusPending, StatusApproved, StatusDenied, StatusExpired}

// Limits of a request.
const (
	MinJustification = 20
	MaxJustification = 2000
	MaxTeamGPUs      = 100000
	MaxProjectGPUs   = 1024
	MinDuration      = time.Hour
	MaxDuration      = 366 * 24 * time.Hour
)

// Spec is what a team member asks for.
type Spec struct {
	// GPUType and GPUs: the team's nominal GPUs of that type to set.
	GPUType string
	GPUs    int
	// BorrowingLimit to set; nil keeps the current one (0 for a new type).
	BorrowingLimit *int
	// Project, if set, is the team's project whose namespace GPU quota
	// becomes ProjectGPUs.
	Project     string
	ProjectGPUs *int
	// Justification says why, for the approver (at least 20 characters).
	Justification string
	// Duration makes the grant temporary: it reverts this long after
	// approval. 0 = permanent.
	Duration time.Duration
}

// Change is what approving a request changes, recorded at approval: the
// values before (a temporary grant restores them when it ends, unless
// someone changed them since) and after.
type Change struct {
	HadEntry                            bool // the team had a quota entry of the type
	NominalBefore, NominalAfter         int
	BorrowingBefore, BorrowingAfter     int
	ProjectGPUsBefore, ProjectGPUsAfter int
}

// Request is a quota request and its decision.
type Request struct {
	ID   string
	Team string
	Spec
	Status      Status
	RequestedBy string
	RequestedAt time.Time
	DecidedBy   string
	DecidedAt   time.Time
	// Comment is the approver's comment, or the reason for a denial.
	Comment string
	// ExpiresAt ends a temporary grant (zero: permanent or not approved).
	ExpiresAt time.Time
	// Change is set once approved.
	Change *Change
	// Applied reports whether the decision's effect — the grant, or once
	// expired its reversal — is in force on the team and the namespace.
	Applied   bool
	AppliedAt time.Time
	// ApplyError says why the last attempt to apply failed; mlportal
	// retries in the background and approving again retries at once.
	ApplyError string
	Attempts   int
	UpdatedAt  time.Time
	// Version increases on every change.
	Version int64
}

// Clone returns a deep copy.
func (r Request) Clone() Request {
	if r.BorrowingLimit != nil {
		v := *r.BorrowingLimit
		r.BorrowingLimit = &v
	}
	if r.ProjectGPUs != nil {
		v := *r.ProjectGPUs
		r.ProjectGPUs = &v
	}
	if r.Change != nil {
		c := *r.Change
		r.Change = &c
	}
	return r
}

var gpuTypeRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// Validate returns every problem with the spec at once.
func (s Spec) Validate() []fault.FieldError {
	var errs []fault.FieldError
	if len(s.GPUType) > 63 || !gpuTypeRE.MatchString(s.GPUType) {
		errs = append(errs, fault.Field("gpuType", "must be a GPU type such as a100: lower-case letters, digits, '-' or '.' (got %q)", s.GPUType))
	}
	if s.GPUs < 0 || s.GPUs > MaxTeamGPUs {
		errs = append(errs, fault.Field("gpus", "must be the team's nominal GPUs to set, 0-%d (got %d)", MaxTeamGPUs, s.GPUs))
	}
	if s.BorrowingLimit != nil && (*s.BorrowingLimit < 0 || *s.BorrowingLimit > MaxTeamGPUs) {
		errs = append(errs, fault.Field("borrowingLimit", "must be 0-%d (got %d)", MaxTeamGPUs, *s.BorrowingLimit))
	}
	switch {
	case s.Project == "" && s.ProjectGPUs != nil:
		errs = append(errs, fault.Field("projectGpus", "needs project: the project whose namespace quota to set"))
	case s.Project != "" && s.ProjectGPUs == nil:
		errs = append(errs, fault.Field("projectGpus", "required with project: the GPUs its namespace may request in all"))
	case s.ProjectGPUs != nil && (*s.ProjectGPUs < 0 || *s.ProjectGPUs > MaxProjectGPUs):
		errs = append(errs, fault.Field("projectGpus", "must be 0-%d (got %d)", MaxProjectGPUs, *s.ProjectGPUs))
	}
	if n := len([]rune(strings.TrimSpace(s.Justification))); n < MinJustification || n > MaxJustification {
		errs = append(errs, fault.Field("justification", "must say why the team needs the GPUs in %d-%d characters (got %d): the approver decides on it", MinJustification, MaxJustification, n))
	}
	if s.Duration != 0 && (s.Duration < MinDuration || s.Duration > MaxDuration) {
		errs = append(errs, fault.Field("duration", "must be between %s and %s for a temporary grant, or absent for a permanent one (got %s)", MinDuration, MaxDuration, s.Duration))
	}
	return errs
}

// Plan returns the change approving s makes to team t (whose project,
// if any, holds projectGPUs now).
func (s Spec) Plan(t team.Team, projectGPUs int) Change {
	c := Change{NominalAfter: s.GPUs, ProjectGPUsBefore: projectGPUs, ProjectGPUsAfter: projectGPUs}
	for _, q := range t.GPUQuota {
		if q.GPUType == s.GPUType {
			c.HadEntry, c.NominalBefore, c.BorrowingBefore = true, q.Nominal, q.BorrowingLimit
		}
	}
	c.BorrowingAfter = c.BorrowingBefore
	if s.BorrowingLimit != nil {
		c.BorrowingAfter = *s.BorrowingLimit
	}
	if s.ProjectGPUs != nil {
		c.ProjectGPUsAfter = *s.ProjectGPUs
	}
	return c
}

// Granted returns the team's quota entries with the change applied.
func (c Change) Granted(q []team.GPUQuota, gpuType string) []team.GPUQuota {
	return setEntry(q, gpuType, &team.GPUQuota{GPUType: gpuType, Nominal: c.NominalAfter, BorrowingLimit: c.BorrowingAfter})
}

// Reverted returns the team's quota entries with the change undone: the
// entry as it was before, or none if there was none.
func (c Change) Reverted(q []team.GPUQuota, gpuType string) []team.GPUQuota {
	if !c.HadEntry {
		return setEntry(q, gpuType, nil)
	}
	return setEntry(q, gpuType, &team.GPUQuota{GPUType: gpuType, Nominal: c.NominalBefore, BorrowingLimit: c.BorrowingBefore})
}

// IsGranted reports whether q's entry for gpuType is what the change set.
func (c Change) IsGranted(q []team.GPUQuota, gpuType string) bool {
	for _, e := range q {
		if e.GPUType == gpuType {
			return e.Nominal == c.NominalAfter && e.BorrowingLimit == c.BorrowingAfter
		}
	}
	return false
}

// setEntry replaces (or removes, e == nil) the entry of gpuType, keeping
// the order of the others; a new entry goes last.
func setEntry(q []team.GPUQuota, gpuType string, e *team.GPUQuota) []team.GPUQuota {
	out := make([]team.GPUQuota, 0, len(q)+1)
	found := false
	for _, x := range q {
		if x.GPUType != gpuType {
			out = append(out, x)
			continue
		}
		found = true
		if e != nil {
			out = append(out, *e)
		}
	}
	if !found && e != nil {
		out = append(out, *e)
	}
	return out
}

func sameQuota(a, b []team.GPUQuota) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// describe is the request in words, for messages.
func (r Request) describe() string {
	s := fmt.Sprintf("%d %s GPUs nominal for team %s", r.GPUs, r.GPUType, r.Team)
	if r.Project != "" && r.ProjectGPUs != nil {
		s += fmt.Sprintf(" and %d GPUs for project %s", *r.ProjectGPUs, r.Project)
	}
	return s
}
