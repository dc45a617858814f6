package mlflowremote_test

import (
	"bytes"
	"encoding/json"
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
	"github.com/mlportal/mlportal/internal/mlflowclient"
	"github.com/mlportal/mlportal/internal/mlflowclient/mlflowtest"
	"github.com/mlportal/mlportal/internal/mlflowremote"
	"github.com/mlportal/mlportal/internal/tracking"
)

const adminToken = "root-admin-token"

// TestStockClientThroughPortalIntoMLflow is the whole path: the stock
// mlflow 3.x client runs internal/mlflowapi's workflow against mlportal
// configured with mlportal.mlflow.trackingUri, and the data is then read
// back directly from the real mlflow server.
func TestStockClientThroughPortalIntoMLflow(t *testing.T) {
	remote := mlflowtest.Start(t)
	srv := apptest.Start(t, app.Options{AdminToken: adminToken}, func(cfg *config.Config) {
		cfg.MLflow.TrackingURI = remote.URL
	})
	call(t, srv.URL, adminToken, "POST", "/api/v1/teams", map[string]any{"name": "ml"}, 201, nil)
	var tok struct{ Token string }
	call(t, srv.URL, adminToken, "POST", "/api/v1/tokens", map[string]any{"name": "mlflow", "team": "ml", "verbs": []string{"read", "write"}}, 201, &tok)

	python := filepath.Join(os.Getenv(mlflowtest.EnvVenv), "bin", "python")
	cmd := exec.CommandContext(t.Context(), python, filepath.Join("..", "mlflowapi", "testdata", "client_workflow.py"), "churn-it", "churn-model")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MLFLOW_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "MLFLOW_TRACKING_URI="+srv.URL, "MLFLOW_TRACKING_TOKEN="+tok.Token,
		"MLFLOW_HTTP_REQUEST_MAX_RETRIES=0", "MLFLOW_HTTP_REQUEST_TIMEOUT=60", "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("client workflow through mlportal failed: %v\nstderr (tail):\n%s", err, tail(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var got struct {
		Predictions []int    `json:"predictions"`
		RunIDs      []string `json:"run_ids"`
		Version     string   `json:"version"`
		Stage       string   `json:"stage"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("workflow summary: %v\n%s", err, tail(stdout.String()))
	}
	if len(got.Predictions) != 5 || got.Stage != "Staging" || got.Version != "1" {
		t.Errorf("workflow through mlportal: %+v", got)
	}

	// Read it back from the MLflow server itself.
	c, err := mlflowclient.New(mlflowclient.Config{URL: remote.URL, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	e, err := c.GetExperimentByName(ctx, "churn-it")
	if err != nil {
		t.Fatalf("experiment on the MLflow server: %v", err)
	}
	team := ""
	for _, tg := range e.Tags {
		if tg.Key == tracking.TagTeam {
			team = tg.Value
		}
	}
	if team != "ml" {
		t.Errorf("experiment's %s tag on the server = %q, want ml", tracking.TagTeam, team)
	}
	runs, _, err := c.SearchRuns(ctx, mlflowclient.SearchRunsRequest{ExperimentIDs: []string{e.ExperimentID}, RunViewType: "ALL"})
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]bool{}
	metrics := 0
	for _, r := range runs {
		for _, tg := range r.Data.Tags {
			if tg.Key == mlflowremote.TagRunID {
				local[tg.Value] = true
			}
		}
		metrics += len(r.Data.Metrics)
	}
	for _, id := range got.RunIDs {
		if !local[id] {
			t.Errorf("run %s the client saw is not on the MLflow server (server runs carry %v)", id, local)
		}
	}
	if metrics == 0 {
		t.Error("no metrics on the MLflow server")
	}
	rm, err := c.GetRegisteredModel(ctx, "churn-model")
	if err != nil {
		t.Fatalf("registered model on the MLflow server: %v", err)
	}
	history := 0
	for _, tg := range rm.Tags {
		if strings.HasPrefix(tg.Key, "mlportal.history.") {
			history++
		}
	}
	if len(rm.Aliases) == 0 || rm.Aliases[0].Alias != "champion" || history == 0 {
		t.Errorf("registered model on the server: aliases %v, %d history tags", rm.Aliases, history)
	}
	mv, err := c.GetModelVersion(ctx, "churn-model", 1)
	if err != nil || mv.CurrentStage != "Staging" {
		t.Errorf("version 1 on the server: %+v %v", mv, err)
	}
}

func call(t *testing.T, base, token, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
