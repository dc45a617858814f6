package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/models"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/testenv"
)

// registry is a running mlportal with team "ml" and a read+write token of
// it, driven through MLflow's REST API and mlportal's /api/v1.
type registry struct {
	t     *testing.T
	url   string
	cfg   config.Config
	admin caller
	team  caller // team-scoped read+write token
}

// checkedTemplate is a lifecycle template whose dataExpectations the
// quality reports of project churn's datasets check.
const checkedTemplate = `apiVersion: mlportal.io/v1
kind: LifecycleTemplate
metadata:
  name: checked-training
  version: 1.0.0
  title: Training with data expectations
  description: Training whose data must meet expectations.
spec:
  pattern: training
  job:
    image: python:3.11
    command: [python, train.py]
    resources: {cpu: "1", memory: 1Gi, gpu: 0}
    timeout: 1h
  stages:
    - {name: train, run: mlportal train --wait, required: true}
  dataExpectations:
    - {column: age, maxNullFraction: 0.05, min: 0, max: 120}
    - {column: plan, maxNullFraction: 0}
`

func startRegistry(t *testing.T, pg bool) *registry {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "checked-training.yaml"), []byte(checkedTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.Lifecycle.TemplateDirs = []string{dir}
		if pg {
			cfg.Database.Driver, cfg.Database.DSN = config.DriverPostgres, testenv.Postgres(t)
		}
	})
	r := &registry{t: t, url: srv.URL, cfg: srv.Config, admin: caller{t: t, url: srv.URL, token: "root"}}
	r.admin.call("POST", "/api/v1/teams", map[string]any{"name": "ml", "members": []map[string]string{
		{"subject": "user:default/mia", "role": "maintainer"}, {"subject": "user:default/dev", "role": "developer"}}}, 201)
	tok := r.admin.call("POST", "/api/v1/tokens", map[string]any{"name": "ci", "team": "ml", "verbs": []string{"read", "write"}}, 201)
	r.team = caller{t: t, url: srv.URL, token: tok["token"].(string)}
	return r
}

// mlflow calls MLflow's REST API with the team token.
func (r *registry) mlflow(method, path string, body any, want int) map[string]any {
	r.t.Helper()
	return r.team.call(method, "/api/2.0/mlflow/"+path, body, want)
}

// upload puts an artifact through MLflow's artifact API.
func (r *registry) upload(path, content string) {
	r.t.Helper()
	req, _ := http.NewRequestWithContext(r.t.Context(), "PUT", r.url+"/api/2.0/mlflow-artifacts/artifacts/"+path, strings.NewReader(content))
	req.Header.Set("Authorization", "Bearer "+r.team.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		r.t.Fatalf("upload %s: %d %s", path, res.StatusCode, b)
	}
}

// get reads an /api/v1 path into out with the team token.
func (r *registry) get(path string, want int, out any) {
	r.t.Helper()
	req, _ := http.NewRequestWithContext(r.t.Context(), "GET", r.url+path, http.NoBody)
	req.Header.Set("Authorization", "Bearer "+r.team.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		r.t.Fatalf("GET %s: %d, want %d: %s", path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
			r.t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
}

// The MLmodel file mlflow.sklearn.log_model writes, signature included.
const sklearnMLmodel = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.2
mlflow_version: 3.1.0
model_size_bytes: 855
model_uuid: 5b6c1d9e0d5b4f5f8a3c0b1b7f2d9e11
signature:
  inputs: '[{"type": "double", "name": "age", "required": true}, {"type": "string", "name": "plan", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2025-03-14 09:26:53.589793'
`

// trainedRun is a run that logged metrics, params and a model, as a job
// of project churn would.
type trainedRun struct{ experimentID, runID, artifactURI string }

func (r *registry) trainRun(expID string, tags map[string]string) trainedRun {
	r.t.Helper()
	var ts []map[string]string
	for k, v := range tags {
		ts = append(ts, map[string]string{"key": k, "value": v})
	}
	run := r.mlflow("POST", "runs/create", map[string]any{"experiment_id": expID, "start_time": 1700000000000, "tags": ts}, 200)
	info := run["run"].(map[string]any)["info"].(map[string]any)
	tr := trainedRun{experimentID: expID, runID: info["run_id"].(string), artifactURI: info["artifact_uri"].(string)}
	r.mlflow("POST", "runs/log-batch", map[string]any{"run_id": tr.runID,
		"metrics": []map[string]any{{"key": "auc", "value": 0.91, "timestamp": 1, "step": 0}, {"key": "rmse", "value": 0.3, "timestamp": 1, "step": 0}},
		"params":  []map[string]any{{"key": "C", "value": "1.0"}}}, 200)
	dir := strings.TrimPrefix(tr.artifactURI, "mlflow-artifacts:/") + "/model"
	r.upload(dir+"/MLmodel", sklearnMLmodel)
	r.upload(dir+"/requirements.txt", "mlflow==3.1.0\nscikit-learn==1.5.2\n")
	return tr
}

func (r *registry) experiment(name string) string {
	r.t.Helper()
	return r.mlflow("POST", "experiments/create", map[string]any{"name": name}, 200)["experiment_id"].(string)
}

// register makes a version of model from the run's model directory.
func (r *registry) register(model string, run trainedRun, want int) map[string]any {
	r.t.Helper()
	return r.mlflow("POST", "model-versions/create", map[string]any{"name": model, "source": "runs:/" + run.runID + "/model", "run_id": run.runID}, want)
}

type apiVersion struct {
	Model, Stage, RunId, JobId, Source, ArtifactUri, Digest, Framework, CodeRepository, Commit, ImageDigest, CreatedBy string
	Version                                                                                                            int64
	Aliases                                                                                                            []string
	Metrics                                                                                                            map[string]float64
	Params                                                                                                             map[string]string
	Signature                                                                                                          struct {
		Inputs, Outputs []struct {
			Name, Type string
			Shape      []int
			Optional   bool
		}
	}
	Datasets []struct {
		Name    string
		Version int
		Quality string
	}
	Approval struct{ Status, By, Comment string }
}

type apiModel struct {
	Name, Team, Project, Framework, Stage, ExperimentId string
	Aliases                                             map[string]int64
	LatestVersions                                      []apiVersion
	Deployments                                         []any
	Tags                                                map[string]string
}

type apiChanges struct {
	Items []struct {
		Kind, Name, Op string
		Version        int64
	}
	Next string
}

func (c apiChanges) has(kind, name string, version int64, op string) bool {
	for _, it := range c.Items {
		if it.Kind == kind && it.Name == name && it.Version == version && it.Op == op {
			return true
		}
	}
	return false
}

func TestModelViewFromMLflowRegistry(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			if pg && testing.Short() {
				t.Skip("integration tier: PostgreSQL")
			}
			r := startRegistry(t, pg)
			exp := r.experiment("churn-exp")
			run := r.trainRun(exp, map[string]string{"mlportal.project": "churn", "mlportal.job": "job_0123abc",
				"mlflow.source.git.repoURL": "https://git.example/ml/churn.git", "mlflow.source.git.commit": "4f1c2d3", "mlportal.image.digest": "sha256:abc"})
			r.mlflow("POST", "registered-models/create", map[string]any{"name": "churn"}, 200)
			r.register("churn", run, 200)
			r.awaitFacts("churn", 1) // cached as it was registered, before anyone reads it

			var m apiModel
			r.get("/api/v1/models/churn", 200, &m)
			if m.Team != "ml" || m.Project != "churn" || m.Framework != "sklearn" || m.Stage != "None" || m.ExperimentId != exp ||
				len(m.LatestVersions) != 1 || m.Deployments == nil {
				t.Fatalf("model = %+v", m)
			}
			v := m.LatestVersions[0]
			want := "sha256:" + sha256hex(sklearnMLmodel)
			if v.Digest != want || v.Framework != "sklearn" || v.RunId != run.runID || v.JobId != "job_0123abc" || v.ArtifactUri != run.artifactURI+"/model" ||
				v.CodeRepository != "https://git.example/ml/churn.git" || v.Commit != "4f1c2d3" || v.ImageDigest != "sha256:abc" || v.Approval.Status != "pending" {
				t.Errorf("version = %+v (digest want %s)", v, want)
			}
			if v.Metrics["auc"] != 0.91 || v.Params["C"] != "1.0" {
				t.Errorf("metrics %v, params %v", v.Metrics, v.Params)
			}
			in, out := v.Signature.Inputs, v.Signature.Outputs
			if len(in) != 2 || in[0].Name != "age" || in[0].Type != "double" || in[0].Optional || in[1].Name != "plan" || !in[1].Optional ||
				len(out) != 1 || out[0].Type != "tensor:int64" || len(out[0].Shape) != 1 || out[0].Shape[0] != -1 {
				t.Errorf("signature = %+v", v.Signature)
			}

			// Pages of versions, newest first; one version.
			run2 := r.trainRun(exp, map[string]string{"mlportal.project": "churn"})
			r.register("churn", run2, 200)
			var page struct {
				Items         []apiVersion
				NextPageToken string
			}
			r.get("/api/v1/models/churn/versions?limit=1", 200, &page)
			if len(page.Items) != 1 || page.Items[0].Version != 2 || page.NextPageToken == "" {
				t.Fatalf("first page = %+v", page)
			}
			token := page.NextPageToken
			page.NextPageToken = ""
			r.get("/api/v1/models/churn/versions?limit=1&pageToken="+token, 200, &page)
			if len(page.Items) != 1 || page.Items[0].Version != 1 || page.NextPageToken != "" {
				t.Fatalf("second page = %+v", page)
			}
			var one apiVersion
			r.get("/api/v1/models/churn/versions/2", 200, &one)
			if one.Version != 2 || one.RunId != run2.runID || one.JobId != "" || one.Digest != want {
				t.Errorf("version 2 = %+v", one)
			}
			r.get("/api/v1/models/churn/versions/9", 404, nil)
			r.get("/api/v1/models/nope", 404, nil)

			// Listing with filters.
			r.mlflow("POST", "registered-models/create", map[string]any{"name": "fraud-detector", "tags": []map[string]string{{"key": "mlportal.project", "value": "fraud"}}}, 200)
			var list struct {
				Items         []apiModel
				NextPageToken string
			}
			for q, names := range map[string]string{"": "churn fraud-detector", "?project=churn": "churn", "?project=fraud": "fraud-detector",
				"?q=FRAUD": "fraud-detector", "?team=ml&limit=1": "churn", "?team=other": ""} {
				list.Items = nil
				r.get("/api/v1/models"+q, 200, &list)
				var got []string
				for _, it := range list.Items {
					got = append(got, it.Name)
				}
				if strings.Join(got, " ") != names {
					t.Errorf("GET /api/v1/models%s = %v, want %s", q, got, names)
				}
			}

			// The change feed: everything from the start, then a long poll
			// answered by the next registration.
			var ch apiChanges
			r.get("/api/v1/changes", 200, &ch)
			if !ch.has("model", "churn", 0, "upsert") || !ch.has("model-version", "churn", 2, "upsert") || !ch.has("model", "fraud-detector", 0, "upsert") {
				t.Fatalf("changes = %+v", ch)
			}
			done := make(chan apiChanges, 1)
			go func() {
				var got apiChanges
				r.get("/api/v1/changes?wait=30s&after="+ch.Next, 200, &got)
				done <- got
			}()
			r.register("churn", run2, 200)
			got := <-done
			if len(got.Items) != 1 || !got.has("model-version", "churn", 3, "upsert") || got.Next == ch.Next {
				t.Errorf("long poll = %+v", got)
			}
			ch = apiChanges{}
			r.get("/api/v1/changes?wait=0s&after="+got.Next, 200, &ch)
			if len(ch.Items) != 0 || ch.Next != got.Next {
				t.Errorf("nothing new = %+v", ch)
			}
			r.get("/api/v1/changes?after=bogus", 422, nil)
			r.get("/api/v1/changes?wait=31s", 422, nil)

			r.approvalsHistoryLineageDocs(run)
		})
	}
}

// approvalsHistoryLineageDocs checks the rest of the view of model churn
// (versions 1 from run, 2 and 3 from another run).
func (r *registry) approvalsHistoryLineageDocs(run trainedRun) {
	t := r.t
	// A developer's token may not approve; a maintainer's may.
	body := map[string]any{"status": "approved", "comment": "AUC above 0.9 on the holdout | signed off"}
	r.team.call("PUT", "/api/v1/models/churn/versions/1/approval", body, 403)
	tok := r.admin.call("POST", "/api/v1/tokens", map[string]any{"name": "lead", "team": "ml", "verbs": []string{"read", "write", "manage"}}, 201)
	lead := caller{t: t, url: r.url, token: tok["token"].(string)}
	var v apiVersion
	decode(t, lead.call("PUT", "/api/v1/models/churn/versions/1/approval", body, 200), &v)
	if v.Approval.Status != "approved" || v.Approval.Comment != body["comment"] || v.Approval.By == "" {
		t.Errorf("approval = %+v", v.Approval)
	}
	lead.call("PUT", "/api/v1/models/churn/versions/1/approval", map[string]any{"status": "maybe"}, 422)
	lead.call("PUT", "/api/v1/models/churn/versions/7/approval", body, 404)

	var hist struct {
		Items []struct {
			Kind, From, To, Reason, Actor string
			Version                       int64
		}
		NextPageToken string
	}
	r.get("/api/v1/models/churn/history", 200, &hist)
	var kinds []string
	for _, e := range hist.Items {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, " ") != "version-created version-created version-created approval-changed" {
		t.Fatalf("history = %+v", hist)
	}
	if a := hist.Items[3]; a.From != "pending" || a.To != "approved" || a.Version != 1 || a.Reason != body["comment"] || !strings.Contains(a.Actor, "token") {
		t.Errorf("approval event = %+v", a)
	}
	hist.Items = nil
	r.get("/api/v1/models/churn/history?limit=3", 200, &hist)
	if len(hist.Items) != 3 || hist.NextPageToken == "" {
		t.Errorf("first page of history = %+v", hist)
	}

	var lin struct {
		Nodes []struct{ Id, Kind, Label string }
		Edges []struct{ From, To, Kind string }
	}
	r.get("/api/v1/models/churn/lineage", 200, &lin)
	var nodes, edges []string
	for _, n := range lin.Nodes {
		nodes = append(nodes, n.Kind+" "+n.Id)
	}
	for _, e := range lin.Edges {
		edges = append(edges, e.From+" -"+e.Kind+"-> "+e.To)
	}
	for _, want := range []string{"model-version model:churn@1", "model-version model:churn@3", "run run:" + run.runID, "job job:job_0123abc"} {
		if !contains(nodes, want) {
			t.Errorf("lineage nodes %v lack %q", nodes, want)
		}
	}
	for _, want := range []string{"run:" + run.runID + " -produced-> model:churn@1", "job:job_0123abc -ran-> run:" + run.runID} {
		if !contains(edges, want) {
			t.Errorf("lineage edges %v lack %q", edges, want)
		}
	}

	docs := func(etag string) (int, string, map[string]string) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", r.url+"/api/v1/models/churn/docs", http.NoBody)
		req.Header.Set("Authorization", "Bearer "+r.team.token)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var tree struct {
			Files []struct{ Path, Content string }
		}
		_ = json.NewDecoder(res.Body).Decode(&tree)
		files := map[string]string{}
		for _, f := range tree.Files {
			files[f.Path] = f.Content
		}
		return res.StatusCode, res.Header.Get("ETag"), files
	}
	status, etag, files := docs("")
	if status != 200 || etag == "" || len(files) != 8 {
		t.Fatalf("docs: %d %q %d files", status, etag, len(files))
	}
	if !strings.Contains(files["mkdocs.yml"], "techdocs-core") || !strings.Contains(files["docs/signature.md"], "| age | double | - | yes |") ||
		!strings.Contains(files["docs/performance.md"], "| 1 | None | 0.91 | 0.3 |") ||
		!strings.Contains(files["docs/deployments.md"], "AUC above 0&#46;9 on the holdout &#124; signed off") ||
		!strings.Contains(files["docs/dependencies.md"], "scikit-learn==1.5.2") {
		t.Errorf("docs content:\n%s\n%s\n%s", files["docs/signature.md"], files["docs/performance.md"], files["docs/deployments.md"])
	}
	if s2, e2, f2 := docs(""); s2 != 200 || e2 != etag || f2["docs/index.md"] != files["docs/index.md"] {
		t.Errorf("docs differ between two reads of the same state: %q %q", etag, e2)
	}
	if s3, _, _ := docs(etag); s3 != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", s3)
	}
	lead.call("PUT", "/api/v1/models/churn/versions/1/approval", map[string]any{"status": "rejected"}, 200)
	if _, e4, _ := docs(""); e4 == etag {
		t.Errorf("the ETag did not change with the approval")
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// dataset is a registration body: n rows, of which nulls have no age, with
// ages from lo to hi.
func dataset(name, uri, hash string, n, nulls int64, lo, hi float64) map[string]any {
	return map[string]any{"team": "ml", "project": "churn", "name": name, "uri": uri, "contentHash": hash, "rowCount": n,
		"schema": []map[string]any{{"name": "age", "type": "double", "optional": true}, {"name": "plan", "type": "string"}},
		"profile": map[string]any{"duplicateRows": 2, "columns": []map[string]any{
			{"name": "age", "nulls": nulls, "distinct": 50, "min": lo, "max": hi}, {"name": "plan", "nulls": 0, "distinct": 3}}}}
}

type apiDatasetVersion struct {
	Name, Team, Project, Uri, ContentHash string
	Version                               int
	RowCount                              int64
	Quality                               struct {
		Status string
		Checks []struct {
			Column, Check, Expected, Actual, Message string
			Passed                                   bool
		}
	}
}

func TestDatasetsQualityAndTheRegistryGate(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			if pg && testing.Short() {
				t.Skip("integration tier: PostgreSQL")
			}
			r := startRegistry(t, pg)
			r.admin.call("POST", "/api/v1/projects", map[string]any{"team": "ml", "name": "churn", "template": "checked-training"}, 201)
			bad := "sha256:" + strings.Repeat("b", 64)
			good := "sha256:" + strings.Repeat("a", 64)
			uri := "s3://data/churn/train.csv"

			var v apiDatasetVersion
			decode(t, r.team.call("POST", "/api/v1/datasets", dataset("churn-train", uri, bad, 1000, 120, -3, 99), 201), &v)
			if v.Version != 1 || v.Quality.Status != "failed" || v.Team != "ml" || v.Project != "churn" {
				t.Fatalf("bad data = %+v", v)
			}
			var failed []string
			for _, c := range v.Quality.Checks {
				if !c.Passed && c.Check != "duplicateRows" {
					failed = append(failed, c.Column+" "+c.Check+": "+c.Message)
				}
			}
			if len(failed) != 2 || !strings.Contains(failed[0], `column "age" is 12% null (120 of 1000 rows); the template allows at most 5%`) ||
				!strings.Contains(failed[1], "smallest value -3 is out of range; the template expects at least 0") {
				t.Errorf("failed checks = %q", failed)
			}
			// The same content again is the same version.
			decode(t, r.team.call("POST", "/api/v1/datasets", dataset("churn-train", uri, bad, 1000, 120, -3, 99), 200), &v)
			if v.Version != 1 {
				t.Errorf("same content: version %d", v.Version)
			}
			decode(t, r.team.call("POST", "/api/v1/datasets", dataset("churn-train", uri, good, 1000, 10, 18, 99), 201), &v)
			if v.Version != 2 || v.Quality.Status != "passed" {
				t.Fatalf("good data = %+v", v)
			}
			other := dataset("churn-train", uri, good, 1, 0, 1, 1)
			other["team"] = "other"
			r.admin.call("POST", "/api/v1/teams", map[string]any{"name": "other"}, 201)
			delete(other, "project")
			r.admin.call("POST", "/api/v1/datasets", other, 409)
			nope := dataset("x-data", uri, good, 1, 0, 1, 1)
			nope["project"] = "nope"
			r.team.call("POST", "/api/v1/datasets", nope, 422)
			unchecked := dataset("raw-events", "s3://data/events", good, 5, 0, 1, 1)
			delete(unchecked, "project")
			decode(t, r.team.call("POST", "/api/v1/datasets", unchecked, 201), &v)
			if v.Quality.Status != "unchecked" {
				t.Errorf("without a project: %+v", v.Quality)
			}

			var ds struct {
				Name, Team string
				Versions   []apiDatasetVersion
			}
			r.get("/api/v1/datasets/churn-train", 200, &ds)
			if ds.Team != "ml" || len(ds.Versions) != 2 || ds.Versions[0].Version != 2 || ds.Versions[1].Quality.Status != "failed" {
				t.Errorf("dataset = %+v", ds)
			}
			r.get("/api/v1/datasets/churn-train/versions/1", 200, &v)
			if v.ContentHash != bad || v.RowCount != 1000 {
				t.Errorf("version 1 = %+v", v)
			}
			r.get("/api/v1/datasets/churn-train/versions/3", 404, nil)
			var list struct{ Items []struct{ Name string } }
			r.get("/api/v1/datasets?team=ml", 200, &list)
			if len(list.Items) != 2 || list.Items[0].Name != "churn-train" || list.Items[1].Name != "raw-events" {
				t.Errorf("datasets = %+v", list)
			}

			// A model trained on the failed version (matched by digest) is refused, through MLflow's API.
			exp := r.experiment("churn-exp")
			r.mlflow("POST", "registered-models/create", map[string]any{"name": "churn"}, 200)
			badRun := r.trainRun(exp, map[string]string{"mlportal.project": "churn"})
			r.mlflow("POST", "runs/log-inputs", map[string]any{"run_id": badRun.runID, "datasets": []map[string]any{{
				"dataset": map[string]any{"name": "train", "digest": bad, "source_type": "s3", "source": `{"uri": "` + uri + `"}`},
				"tags":    []map[string]string{{"key": "mlflow.data.context", "value": "training"}}}}}, 200)
			refused := r.register("churn", badRun, 400)
			msg, _ := refused["message"].(string)
			if refused["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(msg, `dataset "churn-train" version 1`) ||
				!strings.Contains(msg, `column "age" is 12% null`) || !strings.Contains(msg, "mlportal datasets register") {
				t.Errorf("refusal = %v", refused)
			}
			// One trained on the good version (matched by URI: MLflow's own digest) registers and shows it.
			goodRun := r.trainRun(exp, map[string]string{"mlportal.project": "churn"})
			r.mlflow("POST", "runs/log-inputs", map[string]any{"run_id": goodRun.runID, "datasets": []map[string]any{{
				"dataset": map[string]any{"name": "train", "digest": "6a5e0f2c", "source_type": "s3", "source": `{"uri": "` + uri + `"}`}}}}, 200)
			r.register("churn", goodRun, 200)
			var mv apiVersion
			r.get("/api/v1/models/churn/versions/1", 200, &mv)
			if len(mv.Datasets) != 1 || mv.Datasets[0].Name != "churn-train" || mv.Datasets[0].Version != 2 || mv.Datasets[0].Quality != "passed" {
				t.Errorf("version datasets = %+v", mv.Datasets)
			}
			var ch apiChanges
			r.get("/api/v1/changes", 200, &ch)
			if !ch.has("dataset", "churn-train", 1, "upsert") || !ch.has("dataset", "churn-train", 2, "upsert") || ch.has("model-version", "churn", 2, "upsert") {
				t.Errorf("changes = %+v", ch)
			}
		})
	}
}

func decode(t *testing.T, m map[string]any, out any) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// TestRealMLflowClientAgainstTheRegistryView runs the stock mlflow client
// (the ML project skeleton's venv: make skeleton-pyenv): a registration
// refused for failed training data, then a good one whose version the
// registry view shows with its framework, signature, digest and dataset.
func TestRealMLflowClientAgainstTheRegistryView(t *testing.T) {
	if testing.Short() {
		t.Skip("integration tier: runs the real mlflow Python client")
	}
	venv := os.Getenv("MLPORTAL_SKELETON_VENV")
	fix := "export MLPORTAL_SKELETON_VENV=$(bash scaffolder-templates/ml-project/pyenv.sh --print-venv) after `make skeleton-pyenv`"
	if venv == "" {
		t.Fatalf("MLPORTAL_SKELETON_VENV is not set: %s", fix)
	}
	python := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("MLPORTAL_SKELETON_VENV: %v: %s", err, fix)
	}
	r := startRegistry(t, false)
	r.admin.call("POST", "/api/v1/projects", map[string]any{"team": "ml", "name": "churn", "template": "checked-training"}, 201)
	bad := "sha256:" + strings.Repeat("b", 64)
	goodURI := "s3://data/churn/train-v2.csv"
	r.team.call("POST", "/api/v1/datasets", dataset("churn-train", "s3://data/churn/train.csv", bad, 1000, 120, -3, 99), 201)
	r.team.call("POST", "/api/v1/datasets", dataset("churn-train", goodURI, "sha256:"+strings.Repeat("a", 64), 1000, 10, 18, 99), 201)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "models_client.py"))
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MLFLOW_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "MLFLOW_TRACKING_URI="+r.url, "MLFLOW_TRACKING_TOKEN="+r.team.token, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0",
		"MLFLOW_HTTP_REQUEST_TIMEOUT=60", "HOME="+t.TempDir(), "MODEL=churn", "BAD_HASH="+bad, "GOOD_URI="+goodURI)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		errs := stderr.String()
		if len(errs) > 4000 {
			errs = errs[len(errs)-4000:]
		}
		t.Fatalf("client: %v\n%s", err, errs)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var got struct {
		MLflow      string `json:"mlflow"`
		Refused     string `json:"refused"`
		RefusedCode string `json:"refused_code"`
		BadRun      string `json:"bad_run"`
		GoodRun     string `json:"good_run"`
		Version     int64  `json:"version"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("client output %q: %v", stdout.String(), err)
	}
	t.Logf("mlflow %s refused the first registration with: %s", got.MLflow, got.Refused)
	if got.RefusedCode != "INVALID_PARAMETER_VALUE" || !strings.Contains(got.Refused, `dataset "churn-train" version 1`) ||
		!strings.Contains(got.Refused, "12% null") || !strings.Contains(got.Refused, got.BadRun) {
		t.Errorf("refusal = %q (%s)", got.Refused, got.RefusedCode)
	}
	var v apiVersion
	r.get(fmt.Sprintf("/api/v1/models/churn/versions/%d", got.Version), 200, &v)
	if v.Framework != "sklearn" || !strings.HasPrefix(v.Digest, "sha256:") || len(v.Digest) != 71 || v.RunId != got.GoodRun ||
		len(v.Signature.Inputs) != 2 || v.Signature.Inputs[0].Name != "age" || v.Metrics["accuracy"] == 0 ||
		len(v.Datasets) != 1 || v.Datasets[0].Version != 2 || v.Datasets[0].Quality != "passed" {
		t.Errorf("version = %+v", v)
	}
}

// awaitFacts waits until the server has cached the version's MLmodel facts.
func (r *registry) awaitFacts(model string, version int64) {
	r.t.Helper()
	st, err := store.Open(r.t.Context(), r.cfg.Database.Driver, r.cfg.Database.DSN, store.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		fs, err := st.ModelFacts(r.t.Context(), []models.VersionKey{{Name: model, Version: version}})
		if err != nil {
			r.t.Fatal(err)
		}
		if f, ok := fs[models.VersionKey{Name: model, Version: version}]; ok {
			if f.Framework != "sklearn" || !f.Available {
				r.t.Errorf("cached facts = %+v", f)
			}
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the facts of %s version %d were not cached after its registration", model, version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
