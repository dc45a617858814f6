package project_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/team"
)

func TestCeilingOf(t *testing.T) {
	cases := []struct {
		name  string
		quota []team.GPUQuota
		want  int
		text  string
	}{
		{"no gpuQuota: the default project quota", nil, 4, "team ml-research's ceiling of 4 GPUs (it has no gpuQuota"},
		{"one type", []team.GPUQuota{{GPUType: "nvidia-a100", Nominal: 6, BorrowingLimit: 2}}, 8,
			"team ml-research's ceiling of 8 GPUs (nominal 6 + borrowing 2)"},
		{"summed over types", []team.GPUQuota{{GPUType: "nvidia-a100", Nominal: 6, BorrowingLimit: 2}, {GPUType: "nvidia-l4", Nominal: 4}}, 12,
			"team ml-research's ceiling of 12 GPUs (nominal 10 + borrowing 2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := project.CeilingOf(team.Team{Name: "ml-research", GPUQuota: c.quota}, 4)
			if got.GPUs() != c.want || !strings.HasPrefix(got.String(), c.text) {
				t.Errorf("CeilingOf = %d %q, want %d %q", got.GPUs(), got, c.want, c.text)
			}
		})
	}
}

func TestCheckCeiling(t *testing.T) {
	eight := project.CeilingOf(team.Team{Name: "ml-research", GPUQuota: []team.GPUQuota{{GPUType: "nvidia-a100", Nominal: 6, BorrowingLimit: 2}}}, 4)
	cases := []struct {
		name   string
		gpus   int
		held   map[string]int
		reason string // "" = allowed
	}{
		{"fits", 8, nil, ""},
		{"zero GPUs always fit", 0, map[string]int{"a": 8}, ""},
		{"fits beside others", 3, map[string]int{"a": 2, "b": 3}, ""},
		{"above the ceiling alone", 16, nil,
			"16 is above team ml-research's ceiling of 8 GPUs (nominal 6 + borrowing 2); ask a platform admin to raise the team's quota"},
		{"above with the others", 4, map[string]int{"churn": 3, "fraud-gbm": 2, "idle": 0},
			"4 more would make 9, above team ml-research's ceiling of 8 GPUs (nominal 6 + borrowing 2); projects churn (3), fraud-gbm (2) already hold 5; free some or ask a platform admin to raise the team's quota"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := project.CheckCeiling(eight, c.gpus, c.held)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("CheckCeiling = %v, want nil", err)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || !errors.Is(err, fault.ErrInvalid) || len(fe.Fields) != 1 || fe.Fields[0].Field != "quota.gpus" {
				t.Fatalf("CheckCeiling = %v, want invalid quota.gpus", err)
			}
			if fe.Fields[0].Reason != c.reason {
				t.Errorf("reason\n got %q\nwant %q", fe.Fields[0].Reason, c.reason)
			}
		})
	}
}

func TestCreateEnforcesTheTeamCeiling(t *testing.T) {
	f := newFixture(t)
	ts := memberships{
		"fraud": {Name: "fraud", Members: []identity.Member{{Subject: "user:default/alice", Role: identity.RoleDeveloper}},
			GPUQuota: []team.GPUQuota{{GPUType: "nvidia-a100", Nominal: 6, BorrowingLimit: 2}}},
		"small": {Name: "small", Members: []identity.Member{{Subject: "user:default/alice", Role: identity.RoleDeveloper}}},
	}
	n := 0
	svc := project.NewService(f.store, ts, f.catalog, noRun{}, f.clock, func() string { n++; return "prj_" + string(rune('a'+n)) },
		project.WithDefaultQuota(project.Quota{GPUs: 2, CPU: "8", Memory: "32Gi"}))
	alice := identity.Principal{Subject: "user:default/alice"}
	req := func(tm, name string, q *project.QuotaRequest) project.CreateRequest {
		return project.CreateRequest{Team: tm, Name: name, Template: "training", Quota: q}
	}

	p, _, err := svc.Create(t.Context(), alice, req("fraud", "churn", &project.QuotaRequest{GPUs: gpus(5), CPU: "16"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (project.Quota{GPUs: 5, CPU: "16", Memory: "32Gi"}); p.Quota != want {
		t.Errorf("quota = %+v, want %+v (absent fields from the default)", p.Quota, want)
	}
	if stored, _ := f.store.GetProject(t.Context(), p.ID); stored.Quota != p.Quota {
		t.Errorf("stored quota = %+v, want %+v", stored.Quota, p.Quota)
	}
	if _, created, err := svc.Create(t.Context(), alice, req("fraud", "churn", &project.QuotaRequest{GPUs: gpus(5), CPU: "16"})); err != nil || created {
		t.Errorf("same request again = %v, %v; want the existing project (its own GPUs do not count twice)", created, err)
	}
	if _, _, err := svc.Create(t.Context(), alice, req("fraud", "churn", &project.QuotaRequest{GPUs: gpus(6)})); !errors.Is(err, fault.ErrAlreadyExists) {
		t.Errorf("another quota, same name = %v, want already exists", err)
	}

	cases := []struct {
		name   string
		req    project.CreateRequest
		kind   error
		reason string // a substring of the quota.gpus reason
	}{
		{"above the ceiling", req("fraud", "big", &project.QuotaRequest{GPUs: gpus(16)}), fault.ErrInvalid, "16 is above team fraud's ceiling of 8 GPUs (nominal 6 + borrowing 2)"},
		{"beside churn", req("fraud", "gbm", &project.QuotaRequest{GPUs: gpus(4)}), fault.ErrInvalid, "projects churn (5) already hold 5"},
		{"default quota beside churn", req("fraud", "gbm", nil), errNone, ""},
		{"now full", req("fraud", "more", &project.QuotaRequest{GPUs: gpus(2)}), fault.ErrInvalid, "projects churn (5), gbm (2) already hold 7"},
		{"no GPUs still fit", req("fraud", "cpu-only", &project.QuotaRequest{GPUs: gpus(0)}), errNone, ""},
		{"team without gpuQuota: the default", req("small", "one", &project.QuotaRequest{GPUs: gpus(3)}), fault.ErrInvalid, "ceiling of 2 GPUs"},
		{"bad cpu", req("fraud", "x1", &project.QuotaRequest{CPU: "lots"}), fault.ErrInvalid, ""},
		{"negative gpus", req("fraud", "x1", &project.QuotaRequest{GPUs: gpus(-1)}), fault.ErrInvalid, "must be 0-1024"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := svc.Create(t.Context(), alice, c.req)
			if c.kind == errNone {
				if err != nil {
					t.Fatalf("Create = %v, want success", err)
				}
				return
			}
			fe, ok := fault.As(err)
			if !errors.Is(err, c.kind) || !ok || len(fe.Fields) == 0 || !strings.HasPrefix(fe.Fields[0].Field, "quota.") ||
				!strings.Contains(fe.Fields[0].Reason, c.reason) {
				t.Fatalf("Create = %v (%+v), want %v on quota.* containing %q", err, fe, c.kind, c.reason)
			}
		})
	}
}

func TestNamespaceStepAppliesTheProjectQuota(t *testing.T) {
	f := newFixture(t)
	svc := project.NewService(f.store, teams, f.catalog, noRun{}, f.clock, func() string { return "prj_q" })
	p, _, err := svc.Create(t.Context(), identity.Principal{Subject: "user:default/alice"},
		project.CreateRequest{Team: "fraud", Name: "churn", Template: "training", Quota: &project.QuotaRequest{GPUs: gpus(1), Memory: "16Gi"}})
	if err != nil {
		t.Fatal(err)
	}
	var got project.Quota
	ns := quotaNamespaces(func(q project.Quota) { got = q })
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if want := (project.Quota{GPUs: 1, CPU: project.DefaultQuota.CPU, Memory: "16Gi"}); got != want {
		t.Errorf("Ensure got quota %+v, want %+v", got, want)
	}
}

// quotaNamespaces records the quota Ensure is asked to apply.
type quotaNamespaces func(project.Quota)

func (n quotaNamespaces) Delete(context.Context, string, string) error { return nil }

func (n quotaNamespaces) Ensure(_ context.Context, team, name string, q project.Quota) (string, error) {
	n(q)
	return team + "-" + name, nil
}

// errNone marks a case that must succeed.
var errNone = errors.New("none")

func gpus(n int) *int { return &n }

// DefaultQuota mirrors the configured default until the composition root
// passes the configured one (app.projectOptions).
func TestDefaultQuotaMirrorsTheConfigDefault(t *testing.T) {
	q := config.Default().Projects.DefaultQuota
	if got := (project.Quota{GPUs: q.GPUs, CPU: q.CPU, Memory: q.Memory}); got != project.DefaultQuota {
		t.Errorf("project.DefaultQuota = %+v, config default %+v", project.DefaultQuota, got)
	}
}
