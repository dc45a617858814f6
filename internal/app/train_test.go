package app_test

import (
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
)

// fakeNvidiaSMI writes an nvidia-smi stand-in reporting n A100s; the local
// executor parses its output like the real tool's.
func fakeNvidiaSMI(t *testing.T, n int) string {
	t.Helper()
	var rows strings.Builder
	for i := range n {
		rows.WriteString(strings.Join([]string{string(rune('0' + i)), "GPU-fake-" + string(rune('a'+i)), "NVIDIA A100-SXM4-80GB", "81920"}, ", ") + "\n")
	}
	path := filepath.Join(t.TempDir(), "nvidia-smi")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ncat <<'EOF'\n"+rows.String()+"EOF\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// venvCache is where job environments are kept between test runs (the
// skeleton's requirements take a minute to install once).
func venvCache(t *testing.T) string {
	t.Helper()
	root := os.Getenv("MLPORTAL_CACHE_DIR")
	if root == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Join(base, "mlportal")
	}
	return filepath.Join(root, "job-venvs")
}

// The end to end: a project made by the saga, then `train` as a
// job of the local executor — the skeleton's real training with the real
// mlflow package from a Python environment prepared from the project's
// requirements.txt — logging to the job's MLflow run on this server, on a
// GPU of the (fake) inventory.
func TestTrainInLocalMode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real training job: python3 with venv, pip and the project's requirements")
	}
	for _, tool := range []string{"git", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; the local executor needs it", tool)
		}
	}
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.Jobs.Local.NvidiaSmi = fakeNvidiaSMI(t, 2)
		cfg.Jobs.Local.GPUTypes = map[string]string{"NVIDIA A100-SXM4-80GB": "a100"}
		cfg.Jobs.Local.CacheDir = venvCache(t)
	})
	api := caller{t: t, url: srv.URL, token: "root"}
	api.call("POST", "/api/v1/teams", map[string]any{"name": "fraud", "gpuQuota": []map[string]any{{"gpuType": "a100", "nominal": 2}}}, 201)
	p := api.call("POST", "/api/v1/projects", map[string]any{"team": "fraud", "name": "churn", "template": "training",
		"quota": map[string]any{"gpus": 2}}, 201)
	if p = api.settle(p["id"].(string)); p["status"] != "succeeded" {
		t.Fatalf("project: %v", p)
	}
	j := api.call("POST", "/api/v1/jobs", map[string]any{"team": "fraud", "project": "churn", "command": []string{
		"python", "src/train.py", "--config", "config/hyperparams.yaml"}}, 201)
	id := j["id"].(string)
	deadline := time.Now().Add(20 * time.Minute) // a failure guard: pip may install the environment first
	for j["state"] != "succeeded" {
		switch j["state"] {
		case "failed", "cancelled", "timed-out":
			t.Fatalf("job: %v\nlogs:\n%s", j, logs(t, srv.URL, id))
		}
		if time.Now().After(deadline) {
			t.Fatalf("job did not finish: %v", j)
		}
		time.Sleep(500 * time.Millisecond)
		j = api.call("GET", "/api/v1/jobs/"+id, nil, 200)
	}
	if j["gpuType"] != "a100" || j["runId"] == nil || j["attempt"].(float64) != 1 {
		t.Errorf("job: %v", j)
	}
	out := logs(t, srv.URL, id)
	if !strings.Contains(out, "registered_model") {
		t.Errorf("the training's summary is missing from its output:\n%s", out)
	}
	// The job's MLflow run holds what train.py logged, and ended with it.
	run := api.call("GET", "/api/2.0/mlflow/runs/get?run_id="+j["runId"].(string), nil, 200)["run"].(map[string]any)
	info, data := run["info"].(map[string]any), run["data"].(map[string]any)
	if info["status"] != "FINISHED" || len(data["metrics"].([]any)) == 0 {
		t.Errorf("run: %v", run)
	}
	tags := map[string]string{}
	for _, tg := range data["tags"].([]any) {
		tg := tg.(map[string]any)
		tags[tg["key"].(string)] = tg["value"].(string)
	}
	if tags["mlportal.job"] != id {
		t.Errorf("run tags: %v", tags)
	}
}

func logs(t *testing.T, url, id string) string {
	req, _ := http.NewRequest("GET", url+"/api/v1/jobs/"+id+"/logs", nil)
	req.Header.Set("Authorization", "Bearer root")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
