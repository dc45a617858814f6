package quota_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/quota"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
)

var (
	alice  = identity.Principal{Subject: "user:default/alice"}
	victor = identity.Principal{Subject: "user:default/victor"}
	pat    = identity.Principal{Subject: "user:default/pat", Admin: true}
)

// namespaces records the quotas applied to namespaces. It stands in for
// the cluster adapter, which internal/app tests against a real
// kube-apiserver (TestQuotaRequestChangesTheNamespaceQuota).
type namespaces struct {
	mu      sync.Mutex
	applied []string // team/project=GPUs
	err     error
}

func (n *namespaces) Apply(_ context.Context, team, project string, q project.Quota) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return n.err
	}
	n.applied = append(n.applied, team+"/"+project+"="+strconv.Itoa(q.GPUs))
	return nil
}

func (n *namespaces) calls() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.applied...)
}

type fixture struct {
	store *store.Store
	clock *clock.Fake
	ns    *namespaces
	svc   *quota.Service
}

// newFixture has team vision (alice a developer, victor a viewer; a100:
// nominal 8, borrowing 4) with projects churn (namespace vision-churn, 4
// GPUs) and other (4 GPUs), in a real SQLite store.
func newFixture(t *testing.T, local bool) *fixture {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(t.TempDir(), "mlportal.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	now := clk.Now()
	if err := st.CreateTeam(ctx, team.Team{Name: "vision", CreatedAt: now, UpdatedAt: now, Version: 1,
		Members:  []identity.Member{{Subject: alice.Subject, Role: identity.RoleDeveloper}, {Subject: victor.Subject, Role: identity.RoleViewer}},
		GPUQuota: []team.GPUQuota{{GPUType: "a100", Nominal: 8, BorrowingLimit: 4}}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"churn", "other"} {
		if err := st.CreateProject(ctx, project.Project{ID: "prj_" + name, Team: "vision", Name: name, Template: "training", TemplateVersion: "1.0.0",
			SCM: project.SCMLocal, Namespace: "vision-" + name, Quota: project.Quota{GPUs: 4, CPU: "32", Memory: "128Gi"},
			Status: project.StatusSucceeded, CreatedAt: now, UpdatedAt: now, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{store: st, clock: clk, ns: &namespaces{}}
	cfg := quota.Config{Repo: st, Teams: st, Projects: st, Jobs: st, Namespaces: f.ns, Clock: clk, DefaultProjectGPUs: 4}
	if local {
		cfg.Namespaces = nil
	}
	f.svc = quota.NewService(cfg)
	return f
}

func (f *fixture) teamQuota(t *testing.T) []team.GPUQuota {
	t.Helper()
	tm, err := f.store.GetTeam(t.Context(), "vision")
	if err != nil {
		t.Fatal(err)
	}
	return tm.GPUQuota
}

func (f *fixture) projectGPUs(t *testing.T, name string) int {
	t.Helper()
	p, err := f.store.GetProjectByName(t.Context(), "vision", name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Quota.GPUs
}

func wantKind(t *testing.T, err error, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
}

func TestRequestApproveAndDeny(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	spec := quota.Spec{GPUType: "a100", GPUs: 16, Project: "churn", ProjectGPUs: intp(12), Justification: why}

	_, err := f.svc.Create(ctx, victor, "vision", spec)
	wantKind(t, err, fault.ErrPermissionDenied)
	big := spec
	big.ProjectGPUs = intp(20) // 20 + other's 4 > the granted ceiling of 16 + 4
	_, err = f.svc.Create(ctx, alice, "vision", big)
	wantKind(t, err, fault.ErrInvalid)
	if fe, _ := fault.As(err); fe.Fields[0].Field != "projectGpus" || !strings.Contains(fe.Fields[0].Reason, "other (4)") {
		t.Errorf("over the ceiling: %+v", fe.Fields)
	}
	missing := spec
	missing.Project = "nope"
	_, err = f.svc.Create(ctx, alice, "vision", missing)
	wantKind(t, err, fault.ErrNotFound)

	r, err := f.svc.Create(ctx, alice, "vision", spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != quota.StatusPending || r.RequestedBy != alice.Subject || !strings.HasPrefix(r.ID, "qr_") {
		t.Fatalf("created: %+v", r)
	}
	_, err = f.svc.Approve(ctx, alice, "vision", r.ID, "")
	wantKind(t, err, fault.ErrPermissionDenied)
	_, err = f.svc.Approve(ctx, pat, "other-team", r.ID, "")
	wantKind(t, err, fault.ErrNotFound)

	got, err := f.svc.Approve(ctx, pat, "vision", r.ID, "ok for the retraining")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != quota.StatusApproved || !got.Applied || got.ApplyError != "" || got.DecidedBy != pat.Subject ||
		got.Comment != "ok for the retraining" || !got.ExpiresAt.IsZero() {
		t.Fatalf("approved: %+v", got)
	}
	if diff := cmp.Diff([]team.GPUQuota{{GPUType: "a100", Nominal: 16, BorrowingLimit: 4}}, f.teamQuota(t)); diff != "" {
		t.Errorf("team quota (-want +got):\n%s", diff)
	}
	if g := f.projectGPUs(t, "churn"); g != 12 {
		t.Errorf("project quota %d, want 12", g)
	}
	if diff := cmp.Diff([]string{"vision/churn=12"}, f.ns.calls()); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}

	// Approving again is the same answer, and changes nothing.
	again, err := f.svc.Approve(ctx, pat, "vision", r.ID, "twice")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("second approval (-first +second):\n%s", diff)
	}
	if n := len(f.ns.calls()); n != 1 {
		t.Errorf("namespace applied %d times", n)
	}
	_, err = f.svc.Deny(ctx, pat, "vision", r.ID, "changed my mind")
	wantKind(t, err, fault.ErrConflict)

	// A second request is denied, with a reason.
	f.clock.Advance(time.Minute)
	r2, err := f.svc.Create(ctx, alice, "vision", quota.Spec{GPUType: "h100", GPUs: 64, Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Deny(ctx, pat, "vision", r2.ID, "")
	wantKind(t, err, fault.ErrInvalid)
	d, err := f.svc.Deny(ctx, pat, "vision", r2.ID, "no h100 capacity until Q3")
	if err != nil || d.Status != quota.StatusDenied || d.Comment != "no h100 capacity until Q3" {
		t.Fatalf("deny: %+v %v", d, err)
	}
	if d2, err := f.svc.Deny(ctx, pat, "vision", r2.ID, "again"); err != nil || d2.Version != d.Version {
		t.Errorf("deny again: %+v %v", d2, err)
	}
	_, err = f.svc.Approve(ctx, pat, "vision", r2.ID, "")
	wantKind(t, err, fault.ErrConflict)

	all, _, err := f.svc.List(ctx, victor, "vision", "", pagination.Page{Limit: 10})
	if err != nil || len(all) != 2 || all[0].ID != r.ID {
		t.Fatalf("list: %v %v", all, err)
	}
	denied, _, err := f.svc.List(ctx, victor, "vision", quota.StatusDenied, pagination.Page{Limit: 10})
	if err != nil || len(denied) != 1 || denied[0].ID != r2.ID {
		t.Fatalf("list denied: %v %v", denied, err)
	}
	if _, err := f.svc.Get(ctx, identity.Principal{}, "vision", r.ID); !errors.Is(err, fault.ErrPermissionDenied) {
		t.Errorf("anonymous get: %v", err)
	}
}

// When the namespace cannot be changed, the request stays approved but
// not applied, says why, and the background check applies it once the
// cluster answers.
func TestNamespaceFailureIsRetried(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	f.ns.err = fault.New(fault.ErrUnavailable, "the Kubernetes API server does not answer")
	r, err := f.svc.Create(ctx, alice, "vision", quota.Spec{GPUType: "a100", GPUs: 12, Project: "churn", ProjectGPUs: intp(8), Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Approve(ctx, pat, "vision", r.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != quota.StatusApproved || got.Applied || got.Attempts != 1 ||
		!strings.Contains(got.ApplyError, "the Kubernetes API server does not answer") {
		t.Fatalf("approved with a failing namespace: %+v", got)
	}
	if f.teamQuota(t)[0].Nominal != 12 || f.projectGPUs(t, "churn") != 8 {
		t.Errorf("the steps before the namespace are done: team %v, project %d", f.teamQuota(t), f.projectGPUs(t, "churn"))
	}
	f.ns.err = errors.New("dial tcp: connection refused")
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	cur, _ := f.svc.Get(ctx, pat, "vision", r.ID)
	if cur.Applied || cur.Attempts != 2 || strings.Contains(cur.ApplyError, "dial") || !strings.Contains(cur.ApplyError, "server log") {
		t.Fatalf("after a second failure: %+v", cur)
	}
	f.ns.err = nil
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	cur, _ = f.svc.Get(ctx, pat, "vision", r.ID)
	if !cur.Applied || cur.ApplyError != "" || cur.AppliedAt.IsZero() {
		t.Fatalf("after the cluster answers: %+v", cur)
	}
	if diff := cmp.Diff([]string{"vision/churn=8"}, f.ns.calls()); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	if n, _ := f.svc.Reconcile(ctx); n != 0 {
		t.Errorf("reconcile with nothing to do touched %d", n)
	}
	if again, err := f.svc.Approve(ctx, pat, "vision", r.ID, ""); err != nil || again.Version != cur.Version {
		t.Errorf("approve after applied: %+v %v", again, err)
	}
}

// A temporary grant reverts when it ends: the team's entry and the
// project's namespace go back to what they were.
func TestTemporaryGrantExpires(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	r, _ := f.svc.Create(ctx, alice, "vision", quota.Spec{GPUType: "a100", GPUs: 16, BorrowingLimit: intp(0), Project: "churn",
		ProjectGPUs: intp(12), Justification: why, Duration: 720 * time.Hour})
	got, err := f.svc.Approve(ctx, pat, "vision", r.ID, "for the month")
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(720 * time.Hour); !got.ExpiresAt.Equal(want) {
		t.Fatalf("expires at %s, want %s", got.ExpiresAt, want)
	}
	f.clock.Advance(719 * time.Hour)
	if n, _ := f.svc.Reconcile(ctx); n != 0 {
		t.Fatalf("reconciled %d before the end", n)
	}
	f.clock.Advance(2 * time.Hour)
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile at the end: %d %v", n, err)
	}
	cur, _ := f.svc.Get(ctx, pat, "vision", r.ID)
	if cur.Status != quota.StatusExpired || !cur.Applied {
		t.Fatalf("after the end: %+v", cur)
	}
	if diff := cmp.Diff([]team.GPUQuota{{GPUType: "a100", Nominal: 8, BorrowingLimit: 4}}, f.teamQuota(t)); diff != "" {
		t.Errorf("team quota after the end (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"vision/churn=12", "vision/churn=4"}, f.ns.calls()); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	if n, _ := f.svc.Reconcile(ctx); n != 0 {
		t.Errorf("reconciled %d after expiry", n)
	}
	_, err = f.svc.Approve(ctx, pat, "vision", r.ID, "")
	wantKind(t, err, fault.ErrConflict)
}

// An expiring grant leaves alone what was changed after it, and removes
// a GPU type it added.
func TestExpiryKeepsLaterChanges(t *testing.T) {
	f := newFixture(t, true) // local mode: the records are the quota
	ctx := t.Context()
	temp, _ := f.svc.Create(ctx, alice, "vision", quota.Spec{GPUType: "a100", GPUs: 16, Justification: why, Duration: 24 * time.Hour})
	newType, _ := f.svc.Create(ctx, alice, "vision", quota.Spec{GPUType: "l4", GPUs: 2, Project: "churn", ProjectGPUs: intp(6), Justification: why, Duration: 24 * time.Hour})
	for _, r := range []quota.Request{temp, newType} {
		if got, err := f.svc.Approve(ctx, pat, "vision", r.ID, ""); err != nil || !got.Applied {
			t.Fatalf("approve %s: %+v %v", r.ID, got, err)
		}
	}
	perm, _ := f.svc.Create(ctx, alice, "vision", quota.Spec{GPUType: "a100", GPUs: 24, Justification: why})
	if _, err := f.svc.Approve(ctx, pat, "vision", perm.ID, ""); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(25 * time.Hour)
	if n, err := f.svc.Reconcile(ctx); err != nil || n != 2 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	if diff := cmp.Diff([]team.GPUQuota{{GPUType: "a100", Nominal: 24, BorrowingLimit: 4}}, f.teamQuota(t)); diff != "" {
		t.Errorf("team quota (-want +got):\n%s", diff)
	}
	if g := f.projectGPUs(t, "churn"); g != 4 {
		t.Errorf("project quota %d, want 4 again", g)
	}
	if calls := f.ns.calls(); len(calls) != 0 {
		t.Errorf("local mode applied namespaces: %v", calls)
	}
}

func TestUsage(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	now := f.clock.Now()
	for i, st := range []jobs.State{jobs.StateRunning, jobs.StateQueued, jobs.StateSucceeded} {
		j := jobs.Job{ID: "job_" + strconv.Itoa(i+1), Team: "vision", Project: "churn", Name: "j", State: st, GPUs: 4, Replicas: 3, GPUType: "a100",
			SubmittedAt: now, UpdatedAt: now, Version: 1}
		if err := f.store.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	u, err := f.svc.Usage(ctx, victor, "vision")
	if err != nil {
		t.Fatal(err)
	}
	want := quota.Usage{Team: "vision", Ceiling: 12,
		Types: []quota.TypeUsage{{GPUType: "a100", Nominal: 8, BorrowingLimit: 4, InUse: 12, Borrowed: 4,
			Jobs: []quota.JobUse{{ID: "job_1", Name: "j", Project: "churn", GPUs: 12, State: jobs.StateRunning}}}},
		Projects: []quota.ProjectQuota{{Name: "churn", Namespace: "vision-churn", GPUs: 4}, {Name: "other", Namespace: "vision-other", GPUs: 4}}}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if _, err := f.svc.Usage(ctx, victor, "nobody"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("unknown team: %v", err)
	}
}
