package quota_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/quota"
	"github.com/mlportal/mlportal/internal/team"
)

func intp(n int) *int { return &n }

const why = "the churn model's retraining needs 16 GPUs for a week"

func TestSpecValidate(t *testing.T) {
	ok := quota.Spec{GPUType: "a100", GPUs: 16, Justification: why}
	tests := []struct {
		name   string
		edit   func(*quota.Spec)
		fields []string
	}{
		{name: "valid", edit: func(*quota.Spec) {}},
		{name: "temporary with a project", edit: func(s *quota.Spec) { s.Project, s.ProjectGPUs, s.Duration = "churn", intp(8), 720*time.Hour }},
		{name: "bad type and counts", edit: func(s *quota.Spec) { s.GPUType, s.GPUs, s.BorrowingLimit = "A100", -1, intp(-2) },
			fields: []string{"gpuType", "gpus", "borrowingLimit"}},
		{name: "short justification", edit: func(s *quota.Spec) { s.Justification = "  need more GPUs    " }, fields: []string{"justification"}},
		{name: "project without its GPUs", edit: func(s *quota.Spec) { s.Project = "churn" }, fields: []string{"projectGpus"}},
		{name: "project GPUs without a project", edit: func(s *quota.Spec) { s.ProjectGPUs = intp(2) }, fields: []string{"projectGpus"}},
		{name: "too many project GPUs", edit: func(s *quota.Spec) { s.Project, s.ProjectGPUs = "churn", intp(5000) }, fields: []string{"projectGpus"}},
		{name: "duration out of range", edit: func(s *quota.Spec) { s.Duration = time.Minute }, fields: []string{"duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			var got []string
			for _, e := range s.Validate() {
				got = append(got, e.Field)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	if errs := (quota.Spec{GPUType: "a100", Justification: strings.Repeat("x", 19)}).Validate(); len(errs) != 1 || !strings.Contains(errs[0].Reason, "got 19") {
		t.Errorf("19 characters: %v", errs)
	}
}

func TestPlanGrantAndRevert(t *testing.T) {
	before := []team.GPUQuota{{GPUType: "a100", Nominal: 8, BorrowingLimit: 4}, {GPUType: "h100", Nominal: 2}}
	tm := team.Team{Name: "vision", GPUQuota: before}
	tests := []struct {
		name    string
		spec    quota.Spec
		change  quota.Change
		granted []team.GPUQuota
	}{
		{name: "raise nominal, keep borrowing", spec: quota.Spec{GPUType: "a100", GPUs: 16},
			change:  quota.Change{HadEntry: true, NominalBefore: 8, NominalAfter: 16, BorrowingBefore: 4, BorrowingAfter: 4, ProjectGPUsBefore: 3, ProjectGPUsAfter: 3},
			granted: []team.GPUQuota{{GPUType: "a100", Nominal: 16, BorrowingLimit: 4}, {GPUType: "h100", Nominal: 2}}},
		{name: "set borrowing and a project", spec: quota.Spec{GPUType: "h100", GPUs: 2, BorrowingLimit: intp(6), Project: "churn", ProjectGPUs: intp(8)},
			change:  quota.Change{HadEntry: true, NominalBefore: 2, NominalAfter: 2, BorrowingAfter: 6, ProjectGPUsBefore: 3, ProjectGPUsAfter: 8},
			granted: []team.GPUQuota{{GPUType: "a100", Nominal: 8, BorrowingLimit: 4}, {GPUType: "h100", Nominal: 2, BorrowingLimit: 6}}},
		{name: "a new type goes last", spec: quota.Spec{GPUType: "l4", GPUs: 4},
			change:  quota.Change{NominalAfter: 4, ProjectGPUsBefore: 3, ProjectGPUsAfter: 3},
			granted: append(append([]team.GPUQuota{}, before...), team.GPUQuota{GPUType: "l4", Nominal: 4})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.spec.Plan(tm, 3) // the project's GPUs now
			if diff := cmp.Diff(tt.change, c); diff != "" {
				t.Fatalf("Plan (-want +got):\n%s", diff)
			}
			granted := c.Granted(before, tt.spec.GPUType)
			if diff := cmp.Diff(tt.granted, granted); diff != "" {
				t.Errorf("Granted (-want +got):\n%s", diff)
			}
			if !c.IsGranted(granted, tt.spec.GPUType) {
				t.Error("IsGranted is false right after granting")
			}
			if diff := cmp.Diff(before, c.Reverted(granted, tt.spec.GPUType)); diff != "" {
				t.Errorf("Reverted (-want +got):\n%s", diff)
			}
		})
	}
}
