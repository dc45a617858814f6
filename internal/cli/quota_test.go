package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/cli"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/store"
)

func TestQuotaCostsAndBudgetVerbs(t *testing.T) {
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.Costs.GPUHourPrices = map[string]config.GPUHourPrice{"a100": {OnDemand: 2.5}}
	})
	t.Setenv("MLPORTAL_CLI_CONFIG", filepath.Join(t.TempDir(), "cli.yaml"))
	t.Setenv("MLPORTAL_URL", srv.URL)
	t.Setenv("MLPORTAL_TOKEN", "root")
	t.Setenv("MLPORTAL_TEAM", "")
	mustRun := func(want string, args ...string) string {
		t.Helper()
		code, out, errs := run(t, "", args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("%s: exit %d, output lacks %q:\n%s%s", strings.Join(args, " "), code, want, out, errs)
		}
		return out
	}
	mustFail := func(code int, want string, args ...string) {
		t.Helper()
		got, _, errs := run(t, "", args...)
		if got != code || !strings.Contains(errs, want) {
			t.Fatalf("%s: exit %d, want %d with %q:\n%s", strings.Join(args, " "), got, code, want, errs)
		}
	}
	mustRun("Created team fraud", "teams", "create", "fraud")
	mustRun("has no GPU quota", "quota", "show", "--team", "fraud")
	mustFail(cli.ExitUsage, "--team is required", "quota", "show")
	mustFail(cli.ExitUsage, "--justification", "quota", "request", "--team", "fraud", "--gpu-type", "a100", "--gpus", "8")
	mustFail(cli.ExitInvalid, "justification", "quota", "request", "--team", "fraud", "--gpu-type", "a100", "--gpus", "8", "--justification", "more, now")

	out := mustRun(`"status": "pending"`, "quota", "request", "--team", "fraud", "--gpu-type", "a100", "--gpus", "8", "--for", "24h",
		"--justification", "the churn model's retraining needs 8 GPUs", "-o", "json")
	var req map[string]any
	if err := json.Unmarshal([]byte(out), &req); err != nil {
		t.Fatal(err)
	}
	id := req["id"].(string)
	mustRun("mlportal quota requests approve", "quota", "request", "--team", "fraud", "--gpu-type", "h100", "--gpus", "2",
		"--justification", "evaluating h100s for the scoring service")
	mustRun("pending", "quota", "requests", "list", "--team", "fraud", "--status", "pending")
	out = mustRun("Approved and applied request "+id, "quota", "requests", "approve", id, "--team", "fraud", "--comment", "ok")
	if !strings.Contains(out, "reverts at") {
		t.Errorf("approve output does not say the grant is temporary:\n%s", out)
	}
	mustRun("Approved and applied", "quota", "requests", "approve", id, "--team", "fraud") // again: the same
	mustFail(cli.ExitConflict, "already approved", "quota", "requests", "deny", id, "--team", "fraud", "--reason", "changed my mind")
	mustFail(cli.ExitUsage, "--reason is required", "quota", "requests", "deny", id, "--team", "fraud")
	out = mustRun("nominal 0 → 8", "quota", "requests", "show", id, "--team", "fraud")
	if !strings.Contains(out, "applied:        yes") {
		t.Errorf("show:\n%s", out)
	}

	// A running job shows in the quota and in the costs.
	st, err := store.Open(t.Context(), store.SQLite, srv.Config.Database.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	if err := st.CreateJob(t.Context(), jobs.Job{ID: "job_1", Team: "fraud", Project: "churn", Name: "churn-1", GPUs: 2, Replicas: 1, GPUType: "a100",
		State: jobs.StateSucceeded, GPUSeconds: 7200, Cost: 10, SubmittedAt: now, FinishedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateJob(t.Context(), jobs.Job{ID: "job_2", Team: "fraud", Project: "churn", Name: "churn-2", GPUs: 2, Replicas: 1, GPUType: "a100",
		State: jobs.StateRunning, StartedAt: now, SubmittedAt: now, UpdatedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	out = mustRun("job_2", "quota", "show", "--team", "fraud")
	if !strings.Contains(out, "a100") || !strings.Contains(out, "2 × a100") {
		t.Errorf("quota show:\n%s", out)
	}
	out = mustRun("fraud/churn", "costs", "--team", "fraud", "--by", "project")
	if !strings.Contains(out, "COST (USD)") || !strings.Contains(out, "TOTAL") || !strings.Contains(out, "10.0") {
		t.Errorf("costs:\n%s", out)
	}
	mustRun(now.Format("2006-01"), "costs", "--by", "month", "--month", now.Format("2006-01"))
	mustRun("No job used GPU time", "costs", "--month", "2020-01")
	mustFail(cli.ExitUsage, "--month must be YYYY-MM", "costs", "--month", "November")
	mustFail(cli.ExitInvalid, "needs team", "costs", "--project", "churn")

	mustRun("has no budget", "budget", "show", "--team", "fraud")
	out = mustRun("Set team fraud's budget", "budget", "set", "--team", "fraud", "--amount", "11", "--hard-limit")
	if !strings.Contains(out, "state:       warning") || !strings.Contains(out, "new jobs are refused") {
		t.Errorf("budget set:\n%s", out)
	}
	mustRun(`"monthlyAmount": 11`, "budget", "show", "--team", "fraud", "-o", "json")
	mustFail(cli.ExitUsage, "--amount is required", "budget", "set", "--team", "fraud")

	code, out, _ := run(t, "", "token", "create", "--name", "ro", "--team", "fraud", "--verbs", "read", "-o", "json")
	var tok map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil {
		t.Fatalf("token create: %d %s", code, out)
	}
	mustFail(cli.ExitDenied, "only platform admins set budgets", "--token", tok["token"].(string), "budget", "set", "--team", "fraud", "--amount", "5")
	mustFail(cli.ExitDenied, "only platform admins approve", "--token", tok["token"].(string), "quota", "requests", "approve", id, "--team", "fraud")
}
