package team

import (
	"math"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/identity"
)

func ptr[T any](v T) *T { return &v }

func TestSpecValidate(t *testing.T) {
	cases := []struct {
		name  string
		spec  Spec
		field string // "" = valid
	}{
		{"empty is valid", Spec{}, ""},
		{"full", Spec{BackstageGroup: "group:default/ml", Members: []identity.Member{{Subject: "user:default/a", Role: identity.RoleViewer}},
			GPUQuota: []GPUQuota{{GPUType: "nvidia-a100-80gb", Nominal: 8, BorrowingLimit: 4}}}, ""},
		{"bad group ref", Spec{BackstageGroup: "ml"}, "backstageGroup"},
		{"bad member ref", Spec{Members: []identity.Member{{Subject: "alice", Role: identity.RoleViewer}}}, "members[0].subject"},
		{"bad role", Spec{Members: []identity.Member{{Subject: "user:default/a", Role: "owner"}}}, "members[0].role"},
		{"duplicate member", Spec{Members: []identity.Member{{Subject: "user:default/a", Role: identity.RoleViewer}, {Subject: "user:default/a", Role: identity.RoleMaintainer}}}, "members[1].subject"},
		{"bad gpu type", Spec{GPUQuota: []GPUQuota{{GPUType: "A100!", Nominal: 1}}}, "gpuQuota[0].gpuType"},
		{"negative quota", Spec{GPUQuota: []GPUQuota{{GPUType: "a100", Nominal: -1}}}, "gpuQuota[0]"},
		{"duplicate gpu type", Spec{GPUQuota: []GPUQuota{{GPUType: "a100"}, {GPUType: "a100"}}}, "gpuQuota[1].gpuType"},
		{"weight 3", Spec{FairShareWeight: ptr(3.0)}, ""},
		{"lowest weight", Spec{FairShareWeight: ptr(MinWeight)}, ""},
		{"highest weight", Spec{FairShareWeight: ptr(MaxWeight)}, ""},
		{"zero weight", Spec{FairShareWeight: ptr(0.0)}, "fairShareWeight"},
		{"negative weight", Spec{FairShareWeight: ptr(-1.0)}, "fairShareWeight"},
		{"weight above the bound", Spec{FairShareWeight: ptr(100.5)}, "fairShareWeight"},
		{"weight NaN", Spec{FairShareWeight: ptr(math.NaN())}, "fairShareWeight"},
		{"weight infinite", Spec{FairShareWeight: ptr(math.Inf(1))}, "fairShareWeight"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := c.spec.Validate()
			if c.field == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected errors %v", errs)
				}
				return
			}
			for _, e := range errs {
				if e.Field == c.field {
					return
				}
			}
			t.Fatalf("no error for %s in %v", c.field, errs)
		})
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{"ml-research": true, "a1": true, "x": false, "Bad": false, "-a": false, "a-": false,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false, "1abc": false} {
		if got := ValidateName(name) == nil; got != ok {
			t.Errorf("ValidateName(%q) ok=%v, want %v", name, got, ok)
		}
	}
}
