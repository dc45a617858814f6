package project_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeRepos stands in for the SCM providers, which have their own tests
// against real git and GitHub's API description; it records the
// repositories made and deleted.
type fakeRepos struct {
	mu        sync.Mutex
	created   map[string]int // team/project → Ensure calls
	deleted   map[string]int // team/project → Delete calls
	files     map[string][]byte
	spec      project.RepoSpec
	deleteErr error
}

func (f *fakeRepos) Ensure(_ context.Context, spec project.RepoSpec) (project.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created[spec.Team+"/"+spec.Project]++
	f.files, f.spec = spec.Files, spec
	url := "http://mlportal.test/git/" + spec.Team + "/" + spec.Project + ".git"
	return project.Repo{CloneURL: url, WebURL: url, CatalogInfoURL: url + "/raw/main/catalog-info.yaml", Commit: "0123456789abcdef0123"}, nil
}

func (f *fakeRepos) Delete(_ context.Context, team, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deleteErr != nil {
		return f.deleteErr
	}
	f.deleted[team+"/"+name]++
	return nil
}

// namespaces calls fn on every Ensure; Delete succeeds.
type namespaces func(ctx context.Context, team, name string) (string, error)

func (n namespaces) Ensure(ctx context.Context, team, name string, _ project.Quota) (string, error) {
	return n(ctx, team, name)
}

func (n namespaces) Delete(context.Context, string, string) error { return nil }

type memberships map[string]team.Team

func (m memberships) Membership(ctx context.Context, name string) (identity.Membership, error) {
	t, err := m.Get(ctx, identity.Principal{}, name)
	return t.Membership(), err
}

func (m memberships) Get(_ context.Context, _ identity.Principal, name string) (team.Team, error) {
	t, ok := m[name]
	if !ok {
		return team.Team{}, fault.NotFound("team", name)
	}
	return t, nil
}

var teams = memberships{"fraud": {Name: "fraud", BackstageGroup: "group:default/fraud",
	Members: []identity.Member{{Subject: "user:default/alice", Role: identity.RoleDeveloper}, {Subject: "user:default/vic", Role: identity.RoleViewer}}}}

var skeleton = fstest.MapFS{
	"README.md":         {Data: []byte("# ${{ values.name }} of ${{ values.team }} (${{ values.lifecycleTemplate }} ${{ values.lifecycleVersion }})\n")},
	"catalog-info.yaml": {Data: []byte("name: ${{ values.name }}\nowner: ${{ values.owner }}\n")},
}

type fixture struct {
	store   *store.Store
	repos   *fakeRepos
	catalog *lifecycle.Catalog
	clock   *clock.Fake
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), store.SQLite, filepath.Join(t.TempDir(), "mlportal.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := lifecycle.NewCatalog(lifecycle.Shipped())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, repos: &fakeRepos{created: map[string]int{}, deleted: map[string]int{}}, catalog: cat,
		clock: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
}

func (f *fixture) runner(ns project.Namespaces) *project.Runner {
	return f.runnerOwned("runner-a", ns)
}

func (f *fixture) runnerOwned(owner string, ns project.Namespaces) *project.Runner {
	return project.NewRunner(project.RunnerConfig{Repo: f.store, Teams: teams, Templates: f.catalog,
		SCMs: map[string]project.SCM{project.SCMLocal: f.repos}, Namespaces: ns, Skeleton: skeleton,
		BaseURL: "http://mlportal.test", Clock: f.clock, Log: quiet, Owner: owner})
}

// noRun is an Enqueuer that runs nothing: tests drive the runner themselves.
type noRun struct{}

func (noRun) Enqueue(string) {}

func (f *fixture) create(t *testing.T, name string) project.Project {
	t.Helper()
	svc := project.NewService(f.store, teams, f.catalog, noRun{}, f.clock, func() string { return "prj_" + name })
	p, created, err := svc.Create(t.Context(), identity.Principal{Subject: "user:default/alice"},
		project.CreateRequest{Team: "fraud", Name: name, Template: "training"})
	if err != nil || !created {
		t.Fatalf("Create = %v, %v", created, err)
	}
	return p
}

func statuses(p project.Project) map[string]project.StepStatus {
	out := map[string]project.StepStatus{}
	for _, s := range p.Steps {
		out[s.Name] = s.Status
	}
	return out
}

func TestRunnerLocalMode(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "churn")
	if err := f.runner(nil).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.GetProject(t.Context(), p.ID)
	if got.Status != project.StatusSucceeded || got.RepoURL != "http://mlportal.test/git/fraud/churn.git" || got.EntityRef != "system:default/churn" {
		t.Fatalf("project: %+v", got)
	}
	if s := got.Step(project.StepNamespace); s.Status != project.StepSkipped || s.Detail != project.LocalModeDetail {
		t.Errorf("namespace step: %+v", s)
	}
	if got := string(f.repos.files["catalog-info.yaml"]); got != "name: churn\nowner: group:default/fraud\n" {
		t.Errorf("rendered catalog-info.yaml: %q", got)
	}
}

// A runner stopped after the first step (a crash) leaves the project
// running; a new runner on the same store resumes it without redoing the
// finished step.
func TestResumeAfterCrash(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "churn")
	ctx, crash := context.WithCancel(t.Context())
	first := f.runner(namespaces(func(ctx context.Context, _, _ string) (string, error) {
		crash()
		return "", ctx.Err()
	}))
	if err := first.Run(ctx, p.ID); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	mid, _ := f.store.GetProject(t.Context(), p.ID)
	if mid.Status != project.StatusRunning || mid.Step(project.StepRepository).Status != project.StepDone ||
		mid.Step(project.StepNamespace).Status != project.StepRunning {
		t.Fatalf("after the crash: %s %v", mid.Status, statuses(mid))
	}

	second := f.runner(namespaces(func(_ context.Context, team, name string) (string, error) { return team + "-" + name, nil }))
	if err := second.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	second.Wait()
	got, _ := f.store.GetProject(t.Context(), p.ID)
	if got.Status != project.StatusSucceeded || got.Namespace != "fraud-churn" {
		t.Fatalf("after resume: %s %v ns=%q", got.Status, statuses(got), got.Namespace)
	}
	if a := got.Step(project.StepRepository).Attempts; a != 1 {
		t.Errorf("repository step ran %d times, want 1", a)
	}
	if a := got.Step(project.StepNamespace).Attempts; a != 2 {
		t.Errorf("namespace step attempts %d, want 2", a)
	}
	if n := f.repos.created["fraud/churn"]; n != 1 {
		t.Errorf("repository created %d times, want 1", n)
	}
}

// A failed step says why and what to do; Retry runs it again.
func TestFailedStepAndRetry(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "churn")
	fail := true
	ns := namespaces(func(_ context.Context, team, name string) (string, error) {
		if fail {
			return "", errors.New("connection refused")
		}
		return team + "-" + name, nil
	})
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.GetProject(t.Context(), p.ID)
	st := got.Step(project.StepNamespace)
	if got.Status != project.StatusFailed || st.Status != project.StepFailed || st.Error == "" {
		t.Fatalf("failed saga: %s %+v", got.Status, st)
	}
	if want := "mlportal project retry " + p.ID; !contains(st.Error, want) || contains(st.Error, "connection refused") {
		t.Errorf("error %q should name %q and hide the cause", st.Error, want)
	}
	svc := project.NewService(f.store, teams, f.catalog, noRun{}, f.clock, nil)
	if _, err := svc.Retry(t.Context(), identity.Principal{Subject: "user:default/vic"}, p.ID); !errors.Is(err, fault.ErrPermissionDenied) {
		t.Fatalf("viewer retry: %v", err)
	}
	retried, err := svc.Retry(t.Context(), identity.Principal{Subject: "user:default/alice"}, p.ID)
	if err != nil || retried.Status != project.StatusRunning || retried.Step(project.StepNamespace).Status != project.StepPending {
		t.Fatalf("Retry = %s %v, %v", retried.Status, statuses(retried), err)
	}
	fail = false
	if err := f.runner(ns).Run(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = f.store.GetProject(t.Context(), p.ID)
	if got.Status != project.StatusSucceeded {
		t.Fatalf("after retry: %s %v", got.Status, statuses(got))
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
