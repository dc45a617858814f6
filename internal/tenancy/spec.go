package tenancy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mlportal/mlportal/internal/fault"
)

// Spec is what one project's tenancy should look like.
type Spec struct {
	Team       string // DNS label; the team's namespaces share network access
	Project    string // DNS label, unique within the team
	CostCenter string // a label value; may be empty
	Quota      Quota
	Limits     Limits
	// APIPeer is where the project's pods reach the mlportal API. The zero
	// Peer allows no egress to it.
	APIPeer Peer
	// Role is the ClusterRole the team and the runner are bound to; "" means
	// DefaultRole.
	Role string
}

// Quota is the namespace's ResourceQuota. CPU and Memory bound both the sum
// of requests and the sum of limits. Quantities use Kubernetes syntax.
type Quota struct {
	CPU     string // e.g. "32" or "500m"
	Memory  string // e.g. "128Gi"
	GPUs    int    // requests.nvidia.com/gpu
	Pods    int
	Storage string // requests.storage, e.g. "1Ti"
	PVCs    int    // persistentvolumeclaims
}

// Limits is the namespace's per-container LimitRange. Containers that set no
// CPU or memory get the defaults as request and limit; containers that set no
// GPUs get zero.
type Limits struct {
	MaxGPUsPerContainer int
	DefaultCPU          string
	DefaultMemory       string
	MaxCPU              string
	MaxMemory           string
}

// Peer is the mlportal API as a NetworkPolicy egress peer: either namespaces
// (and optionally pods) selected by labels, or an IP block. Traffic is TCP to
// Port.
type Peer struct {
	NamespaceLabels map[string]string
	PodLabels       map[string]string // only with NamespaceLabels
	CIDR            string            // e.g. "10.0.12.0/24"
	Port            int
}

// IsZero reports whether p names no peer.
func (p Peer) IsZero() bool {
	return len(p.NamespaceLabels) == 0 && len(p.PodLabels) == 0 && p.CIDR == "" && p.Port == 0
}

// DefaultRole is the built-in ClusterRole a project's team is bound to.
const DefaultRole = "edit"

// role returns the ClusterRole to bind.
func (s Spec) role() string {
	if s.Role == "" {
		return DefaultRole
	}
	return s.Role
}

// quantities are a Spec's parsed Kubernetes quantities.
type quantities struct {
	cpu, memory, storage                 resource.Quantity
	defCPU, defMemory, maxCPU, maxMemory resource.Quantity
}

var (
	dnsLabelRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	roleRE     = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9_.:]*$`)
)

// Validate returns every problem with the spec at once.
func (s Spec) Validate() []fault.FieldError {
	_, errs := s.parse()
	return errs
}

// parse validates the spec and returns its quantities.
func (s Spec) parse() (quantities, []fault.FieldError) {
	var errs []fault.FieldError
	add := func(field, format string, args ...any) { errs = append(errs, fault.Field(field, format, args...)) }

	for field, v := range map[string]string{"team": s.Team, "project": s.Project} {
		if len(v) > 63 || !dnsLabelRE.MatchString(v) {
			add(field, "must be 1-63 lower-case letters, digits or '-', starting with a letter and not ending with '-' (got %q)", v)
		}
	}
	if msgs := validation.IsValidLabelValue(s.CostCenter); len(msgs) > 0 {
		add("costCenter", "must be a Kubernetes label value: %s", strings.Join(msgs, "; "))
	}
	if s.Role != "" && (len(s.Role) > 253 || !roleRE.MatchString(s.Role)) {
		add("role", "must be the name of a ClusterRole such as edit (got %q)", s.Role)
	}

	var q quantities
	quantity := func(dst *resource.Quantity, field, v, example string) {
		parsed, err := resource.ParseQuantity(v)
		switch {
		case v == "":
			add(field, "is required (e.g. %s)", example)
		case err != nil:
			add(field, "%q is not a Kubernetes quantity (e.g. %s)", v, example)
		case parsed.Sign() < 0:
			add(field, "must not be negative (got %q)", v)
		default:
			*dst = parsed
		}
	}
	quantity(&q.cpu, "quota.cpu", s.Quota.CPU, "32 or 500m")
	quantity(&q.memory, "quota.memory", s.Quota.Memory, "16Gi")
	quantity(&q.storage, "quota.storage", s.Quota.Storage, "1Ti")
	quantity(&q.defCPU, "limits.defaultCPU", s.Limits.DefaultCPU, "1 or 500m")
	quantity(&q.defMemory, "limits.defaultMemory", s.Limits.DefaultMemory, "2Gi")
	quantity(&q.maxCPU, "limits.maxCPU", s.Limits.MaxCPU, "16")
	quantity(&q.maxMemory, "limits.maxMemory", s.Limits.MaxMemory, "64Gi")
	for field, n := range map[string]int{
		"quota.gpus": s.Quota.GPUs, "quota.pods": s.Quota.Pods, "quota.pvcs": s.Quota.PVCs,
		"limits.maxGPUsPerContainer": s.Limits.MaxGPUsPerContainer,
	} {
		if n < 0 {
			add(field, "must not be negative (got %d)", n)
		}
	}
	if s.Limits.DefaultCPU != "" && s.Limits.MaxCPU != "" && q.defCPU.Cmp(q.maxCPU) > 0 {
		add("limits.defaultCPU", "must not exceed limits.maxCPU (%s > %s)", s.Limits.DefaultCPU, s.Limits.MaxCPU)
	}
	if s.Limits.DefaultMemory != "" && s.Limits.MaxMemory != "" && q.defMemory.Cmp(q.maxMemory) > 0 {
		add("limits.defaultMemory", "must not exceed limits.maxMemory (%s > %s)", s.Limits.DefaultMemory, s.Limits.MaxMemory)
	}
	errs = append(errs, s.APIPeer.validate("apiPeer")...)
	sortFields(errs)
	return q, errs
}

func (p Peer) validate(field string) []fault.FieldError {
	if p.IsZero() {
		return nil
	}
	var errs []fault.FieldError
	hasSelector := len(p.NamespaceLabels) > 0
	switch {
	case hasSelector && p.CIDR != "":
		errs = append(errs, fault.Field(field, "set either namespaceLabels or cidr, not both"))
	case !hasSelector && p.CIDR == "":
		errs = append(errs, fault.Field(field, "set namespaceLabels or cidr"))
	}
	if p.CIDR != "" {
		if pfx, err := netip.ParsePrefix(p.CIDR); err != nil || pfx.Masked() != pfx {
			errs = append(errs, fault.Field(field+".cidr", "%q is not a network in CIDR notation (e.g. 10.0.12.0/24)", p.CIDR))
		}
	}
	if len(p.PodLabels) > 0 && !hasSelector {
		errs = append(errs, fault.Field(field+".podLabels", "needs namespaceLabels"))
	}
	for _, l := range []struct {
		name string
		m    map[string]string
	}{{"namespaceLabels", p.NamespaceLabels}, {"podLabels", p.PodLabels}} {
		for k, v := range l.m {
			msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...)
			if len(msgs) > 0 {
				errs = append(errs, fault.Field(field+"."+l.name, "%s=%s is not a valid label: %s", k, v, strings.Join(msgs, "; ")))
			}
		}
	}
	if p.Port < 1 || p.Port > 65535 {
		errs = append(errs, fault.Field(field+".port", "must be a TCP port, 1-65535 (got %d)", p.Port))
	}
	return errs
}

// NamespaceName is the namespace of a project: "<team>-<project>", or, when
// that exceeds 63 characters, its first 54 characters (without a trailing
// '-') and '-' plus 8 hex digits of a hash of team and project. For a valid
// team and project the result is a DNS label, and it is always the same for
// the same pair.
func NamespaceName(team, project string) string {
	name := team + "-" + project
	if len(name) <= validation.DNS1123LabelMaxLength {
		return name
	}
	sum := sha256.Sum256([]byte(team + "/" + project))
	suffix := hex.EncodeToString(sum[:])[:8]
	prefix := strings.TrimRight(name[:validation.DNS1123LabelMaxLength-len(suffix)-1], "-")
	return fmt.Sprintf("%s-%s", prefix, suffix)
}

// sortFields orders errors by field, so Validate's answer is deterministic.
func sortFields(errs []fault.FieldError) {
	slices.SortStableFunc(errs, func(a, b fault.FieldError) int { return strings.Compare(a.Field, b.Field) })
}
