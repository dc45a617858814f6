package app_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/box"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/scm/github/githubtest"
)

// A project with scm github, end to end through the API against the
// GitHub stand-in (checked against GitHub's REST description): the
// repository in the team's organisation with the skeleton, the pipeline's
// MLPORTAL_URL and a CI token that works against mlportal; deletion
// removes the repository. A foreign repository of the same name fails the
// project with a clear message and survives its deletion.
func TestGitHubProjectEndToEnd(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddOrg("acme-fraud")
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.SCM.GitHub = config.GitHubConfig{APIURL: gh.URL(), Token: githubtest.Token,
			Organizations: map[string]string{"fraud": "acme-fraud"}}
	})
	api := caller{t: t, url: srv.URL, token: "root"}
	api.call("POST", "/api/v1/teams", map[string]any{"name": "fraud"}, 201)

	p := api.call("POST", "/api/v1/projects", map[string]any{"team": "fraud", "name": "churn", "template": "training", "scm": "github"}, 201)
	id := p["id"].(string)
	if p = api.settle(id); p["status"] != "succeeded" {
		t.Fatalf("saga: %v", p)
	}
	repo, ok := gh.Repo("acme-fraud", "churn")
	if !ok {
		t.Fatal("no repository acme-fraud/churn on the stand-in")
	}
	if !strings.HasSuffix(p["repoUrl"].(string), "/acme-fraud/churn.git") ||
		p["catalogInfoUrl"] != p["webUrl"].(string)+"/blob/main/catalog-info.yaml" {
		t.Errorf("urls: repo %v web %v catalog %v", p["repoUrl"], p["webUrl"], p["catalogInfoUrl"])
	}
	files := gh.Files("acme-fraud", "churn", repo.Refs["refs/heads/main"])
	for _, f := range []string{"catalog-info.yaml", ".github/workflows/ml-pipeline.yml", "src/train.py"} {
		if _, ok := files[f]; !ok {
			t.Errorf("first commit lacks %s", f)
		}
	}
	if !strings.Contains(string(files["catalog-info.yaml"].Content), "name: churn") {
		t.Errorf("catalog-info.yaml:\n%s", files["catalog-info.yaml"].Content)
	}
	if v := repo.Variables["MLPORTAL_URL"]; v != srv.Config.Server.BaseURL {
		t.Errorf("MLPORTAL_URL = %q, want %q", v, srv.Config.Server.BaseURL)
	}
	// The CI token, opened with the repository's private key, is a
	// working mlportal token scoped to the team.
	sealed, _, ok := gh.Secret("acme-fraud", "churn", "MLPORTAL_TOKEN")
	_, pub, priv := gh.RepoKey("acme-fraud", "churn")
	ciToken, opened := box.OpenAnonymous(nil, sealed, pub, priv)
	if !ok || !opened {
		t.Fatal("MLPORTAL_TOKEN is missing or not sealed with the repository's key")
	}
	ci := caller{t: t, url: srv.URL, token: string(ciToken)}
	if got := ci.call("GET", "/api/v1/projects/"+id, nil, http.StatusOK); got["id"] != id {
		t.Errorf("the CI token reads %v", got)
	}

	// Deleting the project deletes the repository mlportal made.
	api.call("DELETE", "/api/v1/projects/"+id, nil, 202)
	if gone := api.settle(id); gone != nil {
		t.Fatalf("after delete: %v", gone)
	}
	if _, ok := gh.Repo("acme-fraud", "churn"); ok {
		t.Error("the repository outlived the project")
	}

	// Somebody else's repository of the same name.
	gh.AddRepo("acme-fraud", "scores", map[string][]byte{"README.md": []byte("# not ours\n")})
	p = api.call("POST", "/api/v1/projects", map[string]any{"team": "fraud", "name": "scores", "template": "training", "scm": "github"}, 201)
	id = p["id"].(string)
	if p = api.settle(id); p["status"] != "failed" {
		t.Fatalf("saga over a foreign repository: %v", p)
	}
	step := p["steps"].([]any)[0].(map[string]any)
	if msg, _ := step["error"].(string); step["name"] != "repository" || !strings.Contains(msg, "scores") || !strings.Contains(msg, "another") {
		t.Errorf("repository step: %v", step)
	}
	for _, s := range p["steps"].([]any)[1:] {
		if st := s.(map[string]any); st["status"] != "pending" {
			t.Errorf("step %v ran after the repository failed", st)
		}
	}
	api.call("DELETE", "/api/v1/projects/"+id, nil, 202)
	if gone := api.settle(id); gone != nil {
		t.Fatalf("after delete: %v", gone)
	}
	if _, ok := gh.Repo("acme-fraud", "scores"); !ok {
		t.Error("deleting the failed project deleted somebody else's repository")
	}
}
