package cli_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/cli"
)

func TestProjectVerbs(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	url := server(t)
	admin := []string{"--server", url, "--token", "root"}
	if code, _, errs := run(t, "", append(admin, "teams", "create", "fraud")...); code != 0 {
		t.Fatalf("teams create: %d %q", code, errs)
	}
	code, out, errs := run(t, "", append(admin, "project", "create", "churn", "--team", "fraud", "--description", "Predicts churn", "--wait")...)
	if code != 0 {
		t.Fatalf("project create --wait: %d %q %q", code, out, errs)
	}
	for _, want := range []string{"Creating project churn in team fraud", "repository", "namespace   skipped", "catalog", "is ready",
		"git clone " + "http://", "/git/fraud/churn.git"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("project create --wait:\n%s", out)
	// The same again is the same project.
	code, out, _ = run(t, "", append(admin, "project", "create", "churn", "--team", "fraud", "--description", "Predicts churn", "-o", "json")...)
	var prj map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &prj) != nil || prj["status"] != "succeeded" {
		t.Fatalf("create again: %d %q", code, out)
	}
	id := prj["id"].(string)
	code, out, _ = run(t, "", append(admin, "project", "list", "--team", "fraud")...)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "succeeded") {
		t.Fatalf("project list: %d %q", code, out)
	}
	code, out, _ = run(t, "", append(admin, "project", "show", id)...)
	if code != 0 || !strings.Contains(out, "system:default/churn") || !strings.Contains(out, "STEP") {
		t.Fatalf("project show: %d %q", code, out)
	}
	if code, _, errs = run(t, "", append(admin, "project", "retry", id)...); code != cli.ExitConflict || !strings.Contains(errs, "only a failed project") {
		t.Fatalf("retry of a succeeded project: %d %q", code, errs)
	}
	if code, _, errs = run(t, "", append(admin, "project", "create", "churn", "--team", "fraud", "--description", "other")...); code != cli.ExitConflict {
		t.Fatalf("taken name: %d %q", code, errs)
	}
	if code, _, errs = run(t, "", append(admin, "project", "create", "x1")...); code != cli.ExitUsage || !strings.Contains(errs, "--team") {
		t.Fatalf("no team: %d %q", code, errs)
	}
	if code, _, _ = run(t, "", append(admin, "project", "create", "x1", "--team", "nobody")...); code != cli.ExitNotFound {
		t.Fatalf("unknown team: %d", code)
	}
	// Above the team's ceiling (the default quota's 4 GPUs, of which churn holds 4).
	if code, _, errs = run(t, "", append(admin, "project", "create", "big", "--team", "fraud", "--gpus", "2")...); code != cli.ExitInvalid || !strings.Contains(errs, "quota.gpus") {
		t.Fatalf("over the ceiling: %d %q", code, errs)
	}
	// Deleting frees the GPUs and the name; the repository is gone.
	code, out, errs = run(t, "", append(admin, "project", "delete", id, "--wait")...)
	if code != 0 || !strings.Contains(out, "is deleted") {
		t.Fatalf("project delete --wait: %d %q %q", code, out, errs)
	}
	if code, _, _ = run(t, "", append(admin, "project", "show", id)...); code != cli.ExitNotFound {
		t.Fatalf("show after delete: %d", code)
	}
	if code, _, errs = run(t, "", append(admin, "project", "create", "churn", "--team", "fraud", "--gpus", "4", "--wait")...); code != 0 {
		t.Fatalf("create again after delete: %d %q", code, errs)
	}
	if code, _, errs = run(t, "", append(admin, "project", "create", "gh", "--team", "fraud", "--scm", "github")...); code != cli.ExitInvalid || !strings.Contains(errs, "scm") {
		t.Fatalf("github without configuration: %d %q", code, errs)
	}
}
