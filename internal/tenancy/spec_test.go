package tenancy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/fault"
)

// validSpec is a complete, valid spec; tests change one thing at a time.
func validSpec() Spec {
	return Spec{
		Team: "vision", Project: "detector", CostCenter: "cc-1234",
		Quota:   Quota{CPU: "32", Memory: "128Gi", GPUs: 4, Pods: 20, Storage: "1Ti", PVCs: 10},
		Limits:  Limits{MaxGPUsPerContainer: 2, DefaultCPU: "500m", DefaultMemory: "1Gi", MaxCPU: "16", MaxMemory: "64Gi"},
		APIPeer: Peer{NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "mlportal"}, Port: 8080},
	}
}

func TestSpecValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Spec)
		want   []fault.FieldError // nil = valid
	}{
		{"valid", func(*Spec) {}, nil},
		{"cidr peer", func(s *Spec) { s.APIPeer = Peer{CIDR: "10.0.12.0/24", Port: 443} }, nil},
		{"no peer", func(s *Spec) { s.APIPeer = Peer{} }, nil},
		{"empty cost center", func(s *Spec) { s.CostCenter = "" }, nil},
		{"zero gpus", func(s *Spec) { s.Quota.GPUs, s.Limits.MaxGPUsPerContainer = 0, 0 }, nil},
		{"custom role", func(s *Spec) { s.Role = "mlportal:project-editor" }, nil},
		{"bad quantity", func(s *Spec) { s.Quota.Memory = "16Gee" },
			[]fault.FieldError{{Field: "quota.memory", Reason: `"16Gee" is not a Kubernetes quantity (e.g. 16Gi)`}}},
		{"missing quantity", func(s *Spec) { s.Quota.CPU = "" },
			[]fault.FieldError{{Field: "quota.cpu", Reason: "is required (e.g. 32 or 500m)"}}},
		{"negative quantity", func(s *Spec) { s.Quota.Storage = "-1Gi" },
			[]fault.FieldError{{Field: "quota.storage", Reason: `must not be negative (got "-1Gi")`}}},
		{"negative counts", func(s *Spec) { s.Quota.GPUs, s.Quota.Pods, s.Limits.MaxGPUsPerContainer = -1, -2, -3 },
			[]fault.FieldError{
				{Field: "limits.maxGPUsPerContainer", Reason: "must not be negative (got -3)"},
				{Field: "quota.gpus", Reason: "must not be negative (got -1)"},
				{Field: "quota.pods", Reason: "must not be negative (got -2)"},
			}},
		{"default over max", func(s *Spec) { s.Limits.DefaultCPU, s.Limits.MaxCPU = "4", "2" },
			[]fault.FieldError{{Field: "limits.defaultCPU", Reason: "must not exceed limits.maxCPU (4 > 2)"}}},
		{"bad names", func(s *Spec) { s.Team, s.Project = "Vision", "a_b" },
			[]fault.FieldError{
				{Field: "project", Reason: `must be 1-63 lower-case letters, digits or '-', starting with a letter and not ending with '-' (got "a_b")`},
				{Field: "team", Reason: `must be 1-63 lower-case letters, digits or '-', starting with a letter and not ending with '-' (got "Vision")`},
			}},
		{"peer both", func(s *Spec) { s.APIPeer.CIDR = "10.0.0.0/8" },
			[]fault.FieldError{{Field: "apiPeer", Reason: "set either namespaceLabels or cidr, not both"}}},
		{"peer bad cidr and port", func(s *Spec) { s.APIPeer = Peer{CIDR: "10.0.0.1/8", Port: 70000} },
			[]fault.FieldError{
				{Field: "apiPeer.cidr", Reason: `"10.0.0.1/8" is not a network in CIDR notation (e.g. 10.0.12.0/24)`},
				{Field: "apiPeer.port", Reason: "must be a TCP port, 1-65535 (got 70000)"},
			}},
		{"peer port only", func(s *Spec) { s.APIPeer = Peer{Port: 80} },
			[]fault.FieldError{{Field: "apiPeer", Reason: "set namespaceLabels or cidr"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validSpec()
			c.change(&s)
			if diff := cmp.Diff(c.want, s.Validate()); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSpecValidateFieldsOnly(t *testing.T) {
	// Fields whose reason text comes from apimachinery: only the field is stable.
	cases := map[string]func(*Spec){
		"costCenter":              func(s *Spec) { s.CostCenter = "cost center!" },
		"role":                    func(s *Spec) { s.Role = "../admin" },
		"apiPeer.namespaceLabels": func(s *Spec) { s.APIPeer.NamespaceLabels = map[string]string{"a b": "c"} },
		"apiPeer.podLabels": func(s *Spec) {
			s.APIPeer = Peer{CIDR: "10.0.0.0/8", PodLabels: map[string]string{"app": "api"}, Port: 1}
		},
	}
	for field, change := range cases {
		s := validSpec()
		change(&s)
		errs := s.Validate()
		if len(errs) != 1 || errs[0].Field != field {
			t.Errorf("%s: Validate() = %v, want one error for %s", field, errs, field)
		}
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func TestNamespaceName(t *testing.T) {
	long := strings.Repeat("a", 40)
	cases := []struct{ team, project, want string }{
		{"vision", "detector", "vision-detector"},
		{strings.Repeat("t", 31), strings.Repeat("p", 31), strings.Repeat("t", 31) + "-" + strings.Repeat("p", 31)}, // exactly 63
	}
	for _, c := range cases {
		if got := NamespaceName(c.team, c.project); got != c.want {
			t.Errorf("NamespaceName(%q, %q) = %q, want %q", c.team, c.project, got, c.want)
		}
	}
	seen := map[string]bool{}
	for _, pair := range [][2]string{
		{long, long}, {long, long + "b"}, {strings.Repeat("t", 31), strings.Repeat("p", 32)},
		{strings.Repeat("a", 53), strings.Repeat("x", 20)}, // the cut ends in the separator
		{strings.Repeat("x", 63), strings.Repeat("y", 63)},
	} {
		got := NamespaceName(pair[0], pair[1])
		if len(got) > 63 || !dnsLabel.MatchString(got) {
			t.Errorf("NamespaceName(%q, %q) = %q: not a DNS label of at most 63 characters", pair[0], pair[1], got)
		}
		if again := NamespaceName(pair[0], pair[1]); again != got {
			t.Errorf("NamespaceName is not deterministic: %q then %q", got, again)
		}
		if seen[got] {
			t.Errorf("NamespaceName(%q, %q) = %q collides with another pair", pair[0], pair[1], got)
		}
		seen[got] = true
	}
}
