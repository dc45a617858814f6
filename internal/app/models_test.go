package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/testenv"
)

// registry is a running mlportal with team "ml" and a read+write token of
// it, driven through MLflow's REST API and mlportal's /api/v1.
type registry struct {
	t     *testing.T
	url   string
	admin caller
	team  caller // team-scoped read+write token
}

func startRegistry(t *testing.T, pg bool) *registry {
	t.Helper()
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		if pg {
			cfg.Database.Driver, cfg.Database.DSN = config.DriverPostgres, testenv.Postgres(t)
		}
	})
	r := &registry{t: t, url: srv.URL, admin: caller{t: t, url: srv.URL, token: "root"}}
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
		})
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
