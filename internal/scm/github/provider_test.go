package github_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/nacl/box"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scm/github"
	"github.com/mlportal/mlportal/internal/scm/github/githubtest"
	mlproject "github.com/mlportal/mlportal/scaffolder-templates/ml-project"
)

// firstRun is every request of a first Ensure, in order, as "STATUS operationId".
var firstRun = slices.Concat(
	[]string{
		"404 repos/get",
		"201 repos/create-in-org",
		"200 repos/replace-all-topics",
		"409 git/get-ref", // "Git Repository is empty."
		"201 repos/create-or-update-file-contents",
		"200 git/get-commit",
		"404 git/get-tree",
	},
	slices.Repeat([]string{"201 git/create-blob"}, 7), // 7 distinct contents
	[]string{
		"201 git/create-tree",
		"201 git/create-commit",
		"200 git/update-ref",
		"200 repos/update-branch-protection",
		"200 repos/create-or-update-environment",
		"200 repos/create-or-update-environment",
		"201 actions/create-repo-variable",
		"200 actions/get-repo-public-key",
		"201 actions/create-or-update-repo-secret",
	},
)

func TestEnsureMakesTheRepository(t *testing.T) {
	f := newFixture(t)
	res := f.mustEnsure(project())

	if diff := cmp.Diff(firstRun, f.ops()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	repo, ok := f.srv.Repo(org, "churn")
	if !ok {
		t.Fatal("no repository acme/churn")
	}
	if want := (github.Result{CloneURL: strings.TrimSuffix(res.HTMLURL, "/") + ".git", HTMLURL: res.HTMLURL, DefaultBranch: "main", Commit: repo.Refs["refs/heads/main"]}); res != want || res.Commit == "" {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	if !strings.HasSuffix(res.HTMLURL, "/acme/churn") {
		t.Errorf("HTMLURL = %q", res.HTMLURL)
	}
	if !repo.Private || repo.Description != "ML project churn of team ml-research" || repo.DefaultBranch != "main" {
		t.Errorf("repository = private %v, description %q, default branch %q", repo.Private, repo.Description, repo.DefaultBranch)
	}
	if diff := cmp.Diff([]string{"ml-project", "mlportal"}, repo.Topics); diff != "" {
		t.Errorf("topics (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"refs/heads/main": res.Commit}, repo.Refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}

	// The first commit: the skeleton alone, a root commit (the placeholder is
	// gone from main's history), by the author, dated by the repository.
	c, _ := f.srv.Commit(org, "churn", res.Commit)
	if len(c.Parents) != 0 || c.Message != project().Message || c.AuthorName != "Ada Lovelace" || c.AuthorEmail != "ada@example.com" ||
		c.CommitterName != "mlportal" || c.CommitterEmail != "noreply@mlportal.invalid" || !c.AuthorDate.Equal(epoch) {
		t.Errorf("first commit = %+v", c)
	}
	want := map[string]githubtest.File{}
	for p, b := range skeleton() {
		mode := "100644"
		if strings.HasSuffix(p, ".sh") {
			mode = "100755"
		}
		want[p] = githubtest.File{Mode: mode, Content: b}
	}
	if diff := cmp.Diff(want, f.srv.Files(org, "churn", res.Commit), cmp.Comparer(bytes.Equal)); diff != "" {
		t.Errorf("first commit's files (-want +got):\n%s", diff)
	}

	// Settings.
	prot := repo.Protection["main"]
	reviews, _ := prot["required_pull_request_reviews"].(map[string]any)
	if reviews["required_approving_review_count"] != 1.0 || prot["allow_force_pushes"] != false || prot["allow_deletions"] != false {
		t.Errorf("protection of main = %v", prot)
	}
	if diff := cmp.Diff([]string{"production", "staging"}, repo.Environments); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"MLPORTAL_URL": "https://mlportal.example.com"}, repo.Variables); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	sealed, keyID, ok := f.srv.Secret(org, "churn", "MLPORTAL_TOKEN")
	repoKeyID, pub, priv := f.srv.RepoKey(org, "churn")
	if !ok || keyID != repoKeyID {
		t.Fatalf("secret MLPORTAL_TOKEN: stored %v, key id %q, want %q", ok, keyID, repoKeyID)
	}
	plain, ok := box.OpenAnonymous(nil, sealed, pub, priv)
	if !ok || string(plain) != "mlp_s3cr3t-token" {
		t.Errorf("secret opens to %q (ok %v), want the token", plain, ok)
	}
	for _, r := range f.srv.Requests() {
		if bytes.Contains(r.Body, []byte("mlp_s3cr3t-token")) || bytes.Contains(r.Body, []byte(base64.StdEncoding.EncodeToString([]byte("mlp_s3cr3t-token")))) {
			t.Errorf("%s sent the secret in clear", r)
		}
	}
}

// TestEnsureTwiceChangesNothing: a second Ensure finds everything done,
// writes no git object and returns the same result.
func TestEnsureTwiceChangesNothing(t *testing.T) {
	f := newFixture(t)
	first := f.mustEnsure(project())
	before, _ := f.srv.Repo(org, "churn")
	f.ops()

	second := f.mustEnsure(project())
	if second != first {
		t.Errorf("second Result = %+v, want %+v", second, first)
	}
	want := []string{
		"200 repos/get",
		"200 git/get-ref",
		"200 git/get-commit",
		"200 repos/update-branch-protection",
		"200 repos/create-or-update-environment",
		"200 repos/create-or-update-environment",
		"409 actions/create-repo-variable",
		"204 actions/update-repo-variable",
		"200 actions/get-repo-public-key",
		"204 actions/create-or-update-repo-secret",
	}
	if diff := cmp.Diff(want, f.ops()); diff != "" {
		t.Errorf("second run's requests (-want +got):\n%s", diff)
	}
	after, _ := f.srv.Repo(org, "churn")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("second run changed the repository (-before +after):\n%s", diff)
	}
}

// TestEnsureResumesAfterACrash cuts the connection after GitHub made each
// part in turn (the change is made, the provider never hears of it, as when
// mlportal crashes), then reruns Ensure: it finishes, and the repository is
// exactly the one an uninterrupted run makes, with no object twice.
func TestEnsureResumesAfterACrash(t *testing.T) {
	clean := newFixture(t)
	want := clean.mustEnsure(project())
	wantRepo, _ := clean.srv.Repo(org, "churn")

	for _, op := range []string{
		"repos/create-in-org", "repos/replace-all-topics", "repos/create-or-update-file-contents",
		"git/create-blob", "git/create-tree", "git/create-commit", "git/update-ref",
		"repos/update-branch-protection", "repos/create-or-update-environment", "actions/create-repo-variable",
		"actions/create-or-update-repo-secret",
	} {
		t.Run(op, func(t *testing.T) {
			f := newFixture(t)
			f.srv.Inject(githubtest.Fault{Operation: op, Drop: true, After: true, Times: 1})
			_, err := f.ensure(project())
			if err == nil {
				t.Fatal("Ensure succeeded through a dropped connection")
			}
			if op != "repos/create-in-org" {
				wantFault(t, err, fault.ErrUnavailable, "GitHub at", "unreachable", "mlportal project retry", "already made on GitHub: repository acme/churn")
			}
			got := f.mustEnsure(project())
			if got.Commit != want.Commit {
				t.Errorf("commit after resuming = %s, an uninterrupted run made %s", got.Commit, want.Commit)
			}
			repo, _ := f.srv.Repo(org, "churn")
			if diff := cmp.Diff(wantRepo, repo); diff != "" {
				t.Errorf("repository after resuming differs from an uninterrupted run's (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEnterpriseBaseURL: a GitHub Enterprise Server API root is used as given.
func TestEnterpriseBaseURL(t *testing.T) {
	f := newFixture(t, githubtest.WithBasePath("/api/v3"))
	f.p = newProvider(t, f.srv, strings.TrimSuffix(f.srv.URL(), "/"), f.clk) // without the trailing slash
	res := f.mustEnsure(project())
	if res.Commit == "" {
		t.Fatal("no commit")
	}
	if diff := cmp.Diff(firstRun, f.ops()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	f.mustEnsure(project())
	ctx := context.Background()
	if err := f.p.Delete(ctx, org, "churn"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.srv.Repo(org, "churn"); ok {
		t.Error("repository still there after Delete")
	}
	if err := f.p.Delete(ctx, org, "churn"); err != nil {
		t.Errorf("Delete of a deleted repository = %v, want nil", err)
	}
	f.srv.AddRepo(org, "theirs", map[string][]byte{"a": []byte("b")})
	if err := f.p.Delete(ctx, org, "theirs"); err != nil {
		t.Errorf("Delete of a repository mlportal did not make = %v, want nil (left alone)", err)
	}
	if _, ok := f.srv.Repo(org, "theirs"); !ok {
		t.Error("Delete deleted a repository mlportal did not make")
	}
	f.mustEnsure(project())
	f.srv.Inject(githubtest.Fault{Operation: "repos/delete", Status: 403, Message: "Must have admin rights to Repository."})
	wantFault(t, f.p.Delete(ctx, org, "churn"), fault.ErrPermissionDenied, "may not delete repositories", `"acme"`, "mlportal.scm.github.token", "delete_repo")
}

// TestOrganisationDefaultBranchIsNotMain: where new repositories default to
// another branch, Ensure still commits to main and makes main the default.
func TestOrganisationDefaultBranchIsNotMain(t *testing.T) {
	f := newFixture(t, githubtest.WithDefaultBranch("master"))
	res := f.mustEnsure(project())
	repo, _ := f.srv.Repo(org, "churn")
	if repo.DefaultBranch != "main" || res.DefaultBranch != "main" || repo.Refs["refs/heads/main"] != res.Commit {
		t.Errorf("default branch %q, result %+v, refs %v", repo.DefaultBranch, res, repo.Refs)
	}
	if !slices.Contains(f.ops(), "200 repos/update") {
		t.Error("Ensure did not make main the default branch")
	}
	f.mustEnsure(project())
	if slices.Contains(f.ops(), "200 repos/update") {
		t.Error("a second Ensure changed the default branch again")
	}
}

// BenchmarkEnsure measures a first Ensure of the miniature skeleton against
// the stand-in (request checking included) and reports its requests: on
// GitHub the round trips, not this CPU time, dominate.
func BenchmarkEnsure(b *testing.B) {
	f := newFixture(b)
	b.ResetTimer()
	for i := range b.N {
		r := project()
		r.Name = "churn-" + strconv.Itoa(i)
		if _, err := f.p.Ensure(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(f.srv.Requests()))/float64(b.N), "requests/op")
}

// TestEnsureTheProjectSkeleton commits the real ML project skeleton (its
// files as embedded, placeholders and all): every path and byte arrives.
func TestEnsureTheProjectSkeleton(t *testing.T) {
	files := map[string][]byte{}
	err := fs.WalkDir(mlproject.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[p], err = fs.ReadFile(mlproject.Files(), p)
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("read the skeleton: %d files, %v", len(files), err)
	}
	f := newFixture(t)
	r := project()
	r.Files = files
	res := f.mustEnsure(r)
	got := f.srv.Files(org, "churn", res.Commit)
	if len(got) != len(files) {
		t.Errorf("first commit has %d files, the skeleton %d", len(got), len(files))
	}
	for p, b := range files {
		if !bytes.Equal(got[p].Content, b) {
			t.Errorf("%s differs in the first commit", p)
		}
	}
	t.Logf("%d files, %d requests", len(files), len(f.srv.Requests()))
}
