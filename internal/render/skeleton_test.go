package render_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mlportal/mlportal/internal/render"
	mlproject "github.com/mlportal/mlportal/scaffolder-templates/ml-project"
)

// sampleValues are the values VALUES.md documents, as a new project would get them.
func sampleValues() map[string]string {
	return map[string]string{
		"name":              "churn-model",
		"team":              "fraud",
		"owner":             "group:default/fraud",
		"description":       "Predicts customer churn from usage",
		"modelName":         "churn-model",
		"framework":         "scikit-learn",
		"lifecycleTemplate": "standard",
		"lifecycleVersion":  "1",
		"gpuCount":          "0",
		"gpuType":           "nvidia-a100",
		"image":             "ghcr.io/acme/churn-model:latest",
		"mlportalUrl":       "https://mlportal.example.com",
		"pythonVersion":     "3.11",
		"trainTimeout":      "2h",
	}
}

func renderSkeleton(t *testing.T) map[string][]byte {
	t.Helper()
	out, err := render.Render(mlproject.Files(), sampleValues())
	if err != nil {
		t.Fatalf("render the skeleton: %v", err)
	}
	return out
}

func TestSkeletonRenders(t *testing.T) {
	out := renderSkeleton(t)
	for _, want := range []string{
		"src/train.py", "src/evaluate.py", "src/serve.py", "tests/test_train.py", "tests/test_serve.py",
		"tests/test_evaluate.py", "config/hyperparams.yaml", "Dockerfile", "requirements.txt",
		"catalog-info.yaml", "mkdocs.yml", "docs/index.md", "README.md", ".github/workflows/ml-pipeline.yml",
	} {
		if _, ok := out[want]; !ok {
			t.Errorf("rendered skeleton has no %s", want)
		}
	}
	for name, body := range out {
		for _, leftover := range []string{"${{ values.", "${{values.", "${{ '"} {
			if bytes.Contains(body, []byte(leftover)) {
				t.Errorf("%s still contains %q", name, leftover)
			}
		}
		if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
			dec := yaml.NewDecoder(bytes.NewReader(body))
			for {
				var doc any
				if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Errorf("%s is not valid YAML: %v", name, err)
					break
				}
			}
		}
	}
}

func TestSkeletonWorkflow(t *testing.T) {
	body := renderSkeleton(t)[".github/workflows/ml-pipeline.yml"]
	for _, want := range []string{
		"MLPORTAL_TOKEN: ${{ secrets.MLPORTAL_TOKEN }}",
		"MLPORTAL_URL: ${{ vars.MLPORTAL_URL }}",
		"${{ needs.train.outputs.job-id }}",
		"MLPORTAL_PROJECT: churn-model",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("workflow lacks %q", want)
		}
	}
	var wf struct {
		Env  map[string]string `yaml:"env"`
		Jobs map[string]struct {
			Needs any `yaml:"needs"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(body, &wf); err != nil {
		t.Fatalf("workflow is not YAML: %v", err)
	}
	if wf.Env["MLPORTAL_TOKEN"] != "${{ secrets.MLPORTAL_TOKEN }}" {
		t.Errorf("env.MLPORTAL_TOKEN = %q", wf.Env["MLPORTAL_TOKEN"])
	}
	needs := map[string]string{}
	for name, job := range wf.Jobs {
		switch n := job.Needs.(type) {
		case string:
			needs[name] = n
		case []any:
			needs[name] = n[len(n)-1].(string)
		}
	}
	want := map[string]string{"train": "validate", "evaluate": "train", "register": "evaluate", "promote": "register"}
	for job, prev := range want {
		if needs[job] != prev {
			t.Errorf("job %s needs %q, want %q (validate → train → evaluate → register → promote)", job, needs[job], prev)
		}
	}
	if !bytes.Contains(body, []byte("mlportal train ")) || !bytes.Contains(body, []byte("--wait")) {
		t.Error("the train job does not run `mlportal train --wait`")
	}
}

func TestSkeletonCatalogInfo(t *testing.T) {
	dec := yaml.NewDecoder(bytes.NewReader(renderSkeleton(t)["catalog-info.yaml"]))
	type entity struct {
		Kind     string
		Metadata struct {
			Name        string
			Annotations map[string]string
		}
		Spec struct {
			Owner  string
			System string
		}
	}
	var kinds []string
	for {
		var e entity
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, e.Kind+":"+e.Metadata.Name)
		a := e.Metadata.Annotations
		if a["mlportal.io/project"] != "churn-model" || a["mlportal.io/team"] != "fraud" || a["backstage.io/techdocs-ref"] != "dir:." {
			t.Errorf("%s annotations = %v", e.Kind, a)
		}
		if e.Spec.Owner != "group:default/fraud" {
			t.Errorf("%s owner = %q", e.Kind, e.Spec.Owner)
		}
	}
	if diff := strings.Join(kinds, ","); diff != "System:churn-model,Component:churn-model-training" {
		t.Errorf("entities = %s", diff)
	}
}

// TestSkeletonUsesEveryValue keeps VALUES.md honest: dropping any documented value must
// make rendering fail, so no value is documented but unused.
func TestSkeletonUsesEveryValue(t *testing.T) {
	for name := range sampleValues() {
		vals := sampleValues()
		delete(vals, name)
		if _, err := render.Render(mlproject.Files(), vals); !errors.Is(err, render.ErrUnknownValue) {
			t.Errorf("without value %q Render returned %v, want ErrUnknownValue", name, err)
		}
	}
}

// TestSkeletonRunsInPython is the integration tier: it renders the skeleton, runs its pytest
// suite and a real training run against MLflow (SQLite store) in the virtualenv that
// `make skeleton-pyenv` prepares, then checks the run, its metrics and the registered version
// with the MLflow client, and gates the model with evaluate.py.
func TestSkeletonRunsInPython(t *testing.T) {
	if testing.Short() {
		t.Skip("integration tier: renders the skeleton and runs Python with real MLflow")
	}
	venv := os.Getenv("MLPORTAL_SKELETON_VENV")
	if venv == "" {
		t.Fatal("MLPORTAL_SKELETON_VENV is not set: run `make skeleton-pyenv` and `$(SKELETON_ENV)`, " +
			"or export MLPORTAL_SKELETON_VENV=$(bash scaffolder-templates/ml-project/pyenv.sh --print-venv)")
	}
	out := renderSkeleton(t)
	sum := sha256.Sum256(out["requirements.txt"])
	stamp, err := os.ReadFile(filepath.Join(venv, ".requirements.sha256"))
	if err != nil || strings.TrimSpace(string(stamp)) != hex.EncodeToString(sum[:]) {
		t.Fatalf("%s is not a complete venv for the current requirements.txt (stamp %q, err %v): run `make skeleton-pyenv`",
			venv, strings.TrimSpace(string(stamp)), err)
	}
	python := filepath.Join(venv, "bin", "python")

	dir := filepath.Join(t.TempDir(), "churn-model")
	for name, body := range out {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	work := t.TempDir()
	store := "sqlite:///" + filepath.ToSlash(filepath.Join(work, "mlflow.db"))

	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	run := func(name string, env []string, args ...string) (string, int) {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, python, args...)
		cmd.Dir = dir
		cmd.Env = append(cleanEnv(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: exit %d in %s", name, code, time.Since(start).Round(time.Millisecond))
		if code != 0 {
			t.Logf("%s stdout:\n%s\nstderr:\n%s", name, tail(stdout.String()), tail(stderr.String()))
		}
		return stdout.String(), code
	}

	// pytest's exit code 5 (no tests collected) is a failure like any other non-zero code.
	if _, code := run("pytest", nil, "-m", "pytest", "-q", "-p", "no:cacheprovider"); code != 0 {
		t.Fatalf("pytest in the rendered project exited %d (5 means no tests were collected)", code)
	}

	trainEnv := []string{
		"MLFLOW_TRACKING_URI=" + store,
		"MLFLOW_EXPERIMENT_NAME=skeleton-it",
		"MLPORTAL_RUN_ID=it-run-1",
		"MLPORTAL_CHECKPOINT_DIR=" + filepath.Join(work, "checkpoints"),
	}
	if _, code := run("train", trainEnv, "src/train.py", "--sample", "200", "--output", filepath.Join(work, "train.json")); code != 0 {
		t.Fatalf("src/train.py exited %d", code)
	}

	stdout, code := run("query MLflow", []string{"MLFLOW_TRACKING_URI=" + store}, "-c", queryMLflow, "skeleton-it", "churn-model")
	if code != 0 {
		t.Fatalf("querying MLflow exited %d", code)
	}
	var got struct {
		Runs []struct {
			Metrics map[string]float64 `json:"metrics"`
			Tags    map[string]string  `json:"tags"`
		} `json:"runs"`
		Versions []string `json:"versions"`
	}
	if err := json.Unmarshal([]byte(lastLine(stdout)), &got); err != nil {
		t.Fatalf("query output %q: %v", stdout, err)
	}
	if len(got.Runs) != 1 {
		t.Fatalf("runs in experiment skeleton-it = %d, want 1", len(got.Runs))
	}
	for _, m := range []string{"test_accuracy", "test_f1", "test_precision", "test_recall", "test_roc_auc", "train_accuracy"} {
		if v, ok := got.Runs[0].Metrics[m]; !ok || v < 0 || v > 1 {
			t.Errorf("run metric %s = %v, %v; want a value in [0, 1]", m, v, ok)
		}
	}
	if tag := got.Runs[0].Tags["mlportal.run_id"]; tag != "it-run-1" {
		t.Errorf("run tag mlportal.run_id = %q, want it-run-1", tag)
	}
	if len(got.Versions) != 1 || got.Versions[0] != "1" {
		t.Errorf("registered versions of churn-model = %v, want [1]", got.Versions)
	}

	report := filepath.Join(work, "metrics.json")
	evalEnv := []string{"MLFLOW_TRACKING_URI=" + store}
	if _, code := run("evaluate", evalEnv, "src/evaluate.py", "--model-uri", "models:/churn-model/1", "--output", report); code != 0 {
		t.Errorf("src/evaluate.py on the registered model exited %d, want 0", code)
	}
	var metrics struct {
		Passed  bool               `json:"passed"`
		Metrics map[string]float64 `json:"metrics"`
	}
	if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &metrics) != nil || !metrics.Passed || len(metrics.Metrics) == 0 {
		t.Errorf("metrics.json = %s (err %v), want a passed report with metrics", b, err)
	}
}

// queryMLflow prints, as one JSON line, the runs of experiment argv[1] with metrics and tags
// and the registered versions of model argv[2].
const queryMLflow = `
import json, sys
from mlflow import MlflowClient
client = MlflowClient()
exp = client.get_experiment_by_name(sys.argv[1])
runs = client.search_runs([exp.experiment_id]) if exp else []
versions = client.search_model_versions(f"name='{sys.argv[2]}'")
print(json.dumps({
    "runs": [{"metrics": r.data.metrics, "tags": r.data.tags} for r in runs],
    "versions": sorted(str(v.version) for v in versions),
}))
`

// cleanEnv is the test's environment without variables that would redirect MLflow, mlportal
// jobs or Python itself.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "MLFLOW_") || strings.HasPrefix(name, "MLPORTAL_") || strings.HasPrefix(name, "PYTHON") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
}

func tail(s string) string {
	const max = 6000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
