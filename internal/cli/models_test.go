package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/cli"
)

// mlflowCall calls mlportal's MLflow API as the admin.
func mlflowCall(t *testing.T, url, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/api/2.0/mlflow/"+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer root")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d %v", path, res.StatusCode, out)
	}
	return out
}

func TestModelsAndDatasetsVerbs(t *testing.T) {
	url := server(t)
	admin := []string{"--server", url, "--token", "root"}
	if code, _, errs := run(t, "", append(admin, "teams", "create", "fraud")...); code != 0 {
		t.Fatalf("teams create: %q", errs)
	}
	csv := filepath.Join(t.TempDir(), "train.csv")
	if err := os.WriteFile(csv, []byte("age,plan\n34,basic\n,pro\n51,basic\n34,basic\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "", append(admin, "datasets", "register", csv, "--team", "fraud", "--name", "churn-train", "--uri", "s3://data/train.csv")...)
	if code != 0 || !strings.Contains(out, "Registered churn-train version 1") || !strings.Contains(out, "quality unchecked") ||
		!strings.Contains(out, "1 duplicate row ") || !strings.Contains(out, `source="s3://data/train.csv"`) {
		t.Fatalf("datasets register: %d %q %q", code, out, errs)
	}
	code, out, _ = run(t, "", append(admin, "datasets", "register", csv, "--team", "fraud", "--name", "churn-train", "--uri", "s3://data/train.csv", "-o", "json")...)
	var v map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["version"] != 1.0 || v["rowCount"] != 4.0 {
		t.Fatalf("register again: %d %q", code, out)
	}
	hash := v["contentHash"].(string)
	code, out, _ = run(t, "", append(admin, "datasets", "show", "churn-train", "1")...)
	if code != 0 || !strings.Contains(out, "age     integer  1      2         34   51") {
		t.Fatalf("datasets show version: %d %q", code, out)
	}
	if code, _, errs = run(t, "", append(admin, "datasets", "register", "s3://elsewhere/x.parquet", "--team", "fraud", "--name", "x")...); code != cli.ExitUsage || !strings.Contains(errs, "--content-hash") {
		t.Fatalf("a URI without a hash: %d %q", code, errs)
	}
	if code, out, errs = run(t, "", append(admin, "datasets", "register", "s3://elsewhere/x.parquet", "--team", "fraud", "--name", "events", "--content-hash", hash, "--rows", "9")...); code != 0 || !strings.Contains(out, "Registered events version 1") {
		t.Fatalf("a URI with a hash: %d %q %q", code, out, errs)
	}
	if code, out, _ = run(t, "", append(admin, "datasets", "list")...); code != 0 || !strings.Contains(out, "churn-train") || !strings.Contains(out, "events") {
		t.Fatalf("datasets list: %d %q", code, out)
	}

	// A model registered through MLflow, from a run that logged the dataset.
	exp := mlflowCall(t, url, "experiments/create", map[string]any{"name": "churn", "tags": []map[string]string{{"key": "mlportal.team", "value": "fraud"}}})
	run1 := mlflowCall(t, url, "runs/create", map[string]any{"experiment_id": exp["experiment_id"], "tags": []map[string]string{{"key": "mlportal.project", "value": "churn"}}})
	runID := run1["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	mlflowCall(t, url, "runs/log-inputs", map[string]any{"run_id": runID, "datasets": []map[string]any{{"dataset": map[string]any{"name": "train", "digest": hash, "source_type": "s3", "source": "{}"}}}})
	mlflowCall(t, url, "registered-models/create", map[string]any{"name": "churn", "tags": []map[string]string{{"key": "mlportal.team", "value": "fraud"}}})
	mlflowCall(t, url, "model-versions/create", map[string]any{"name": "churn", "source": "runs:/" + runID + "/model", "run_id": runID})

	for _, c := range []struct {
		args []string
		says []string
	}{
		{[]string{"models", "list"}, []string{"NAME", "churn", "fraud", "churn", "None", "mlportal models show churn"}},
		{[]string{"models", "show", "churn"}, []string{"project", "VERSION", "churn-train@1 (unchecked)", runID}},
		{[]string{"models", "show", "churn", "1"}, []string{"datasets", "churn-train@1", "mlportal models approve churn 1"}},
		{[]string{"models", "versions", "churn"}, []string{"pending", runID}},
		{[]string{"models", "lineage", "churn"}, []string{"trained-on", "produced", "dataset:churn-train@1", "model:churn@1"}},
		{[]string{"models", "approve", "churn", "1", "--comment", "looks good"}, []string{"Version 1 of churn is now approved"}},
		{[]string{"models", "history", "churn"}, []string{"version-created", "approval-changed", "looks good"}},
	} {
		code, out, errs := run(t, "", append(admin, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: %d %q", c.args, code, errs)
		}
		for _, s := range c.says {
			if !strings.Contains(out, s) {
				t.Errorf("%v output lacks %q:\n%s", c.args, s, out)
			}
		}
	}
	if code, _, _ = run(t, "", append(admin, "models", "show", "nope")...); code != cli.ExitNotFound {
		t.Errorf("unknown model: %d", code)
	}
	if code, _, _ = run(t, "", append(admin, "models", "approve", "churn", "x")...); code != cli.ExitUsage {
		t.Errorf("bad version: %d", code)
	}
	code, out, _ = run(t, "", append(admin, "models", "show", "churn", "-o", "yaml")...)
	if code != 0 || !strings.Contains(out, "latestVersions:") {
		t.Errorf("yaml: %d %q", code, out)
	}
}
