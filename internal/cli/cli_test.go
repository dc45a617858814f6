package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/cli"
)

// server starts a real mlportal (SQLite) in-process and points the CLI's
// config file at a temporary path.
func server(t *testing.T) string {
	t.Helper()
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, nil)
	t.Setenv("MLPORTAL_CLI_CONFIG", filepath.Join(t.TempDir(), "cli.yaml"))
	t.Setenv("MLPORTAL_URL", "")
	t.Setenv("MLPORTAL_TOKEN", "")
	return srv.URL
}

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestLoginThenVerbs(t *testing.T) {
	url := server(t)
	code, out, errs := run(t, "root\n", "login", "--server", url, "--token", "-")
	if code != 0 || !strings.Contains(out, "Logged in to "+url+" as admin") {
		t.Fatalf("login: %d %q %q", code, out, errs)
	}
	code, out, _ = run(t, "", "whoami", "-o", "json")
	var id map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &id) != nil || id["subject"] != "admin" {
		t.Fatalf("whoami: %d %s", code, out)
	}
	code, out, errs = run(t, "", "teams", "create", "ml-research", "--display-name", "ML Research", "--member", "user:default/alice=maintainer")
	if code != 0 || !strings.Contains(out, "Created team ml-research") {
		t.Fatalf("teams create: %d %q %q", code, out, errs)
	}
	code, out, _ = run(t, "", "teams", "list")
	if code != 0 || !strings.Contains(out, "ml-research") || !strings.Contains(out, "NAME") {
		t.Fatalf("teams list: %d %q", code, out)
	}
	code, out, _ = run(t, "", "teams", "get", "ml-research", "-o", "yaml")
	if code != 0 || !strings.Contains(out, "displayName: ML Research") {
		t.Fatalf("teams get yaml: %d %q", code, out)
	}
	code, out, _ = run(t, "", "token", "create", "--name", "ci", "--team", "ml-research", "--verbs", "read", "-o", "json")
	var tok map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok["token"] == "" {
		t.Fatalf("token create: %d %q", code, out)
	}
	// The new token works, and is read-only.
	code, _, _ = run(t, "", "--token", tok["token"].(string), "teams", "list")
	if code != 0 {
		t.Fatalf("list with token: %d", code)
	}
	code, _, errs = run(t, "", "--token", tok["token"].(string), "teams", "create", "other")
	if code != cli.ExitDenied || !strings.Contains(errs, "hint:") {
		t.Fatalf("create with read token: %d %q", code, errs)
	}
	code, out, _ = run(t, "", "audit", "list", "--action", "team.create")
	if code != 0 || !strings.Contains(out, "teams/ml-research") || !strings.Contains(out, "teams/other") {
		t.Fatalf("audit list: %d %q", code, out)
	}
	code, out, _ = run(t, "", "templates", "list")
	if code != 0 || !strings.Contains(out, "realtime-serving") {
		t.Fatalf("templates list: %d %q", code, out)
	}
	code, out, _ = run(t, "", "templates", "show", "training")
	if code != 0 || !strings.Contains(out, "train") {
		t.Fatalf("templates show: %d %q", code, out)
	}
	code, out, _ = run(t, "", "token", "revoke", tok["id"].(string))
	if code != 0 || !strings.Contains(out, "Revoked") {
		t.Fatalf("revoke: %d %q", code, out)
	}
	code, _, errs = run(t, "", "--token", tok["token"].(string), "teams", "list")
	if code != cli.ExitUnauthenticated || !strings.Contains(errs, "mlportal login") {
		t.Fatalf("revoked token: %d %q", code, errs)
	}
}

func TestExitCodes(t *testing.T) {
	url := server(t)
	admin := []string{"--server", url, "--token", "root"}
	cases := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no token", []string{"--server", url, "teams", "list"}, cli.ExitUnauthenticated, "no credentials"},
		{"not found", append(admin, "teams", "get", "nope"), cli.ExitNotFound, "not found"},
		{"invalid", append(admin, "teams", "create", "Bad_Name"), cli.ExitInvalid, "name:"},
		{"bad member flag", append(admin, "teams", "create", "x1", "--member", "alice"), cli.ExitUsage, "REF=ROLE"},
		{"bad output", append(admin, "teams", "list", "-o", "xml"), cli.ExitUsage, "--output"},
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage, "unknown command"},
		{"unreachable", []string{"--server", "http://127.0.0.1:1", "--token", "x", "teams", "list"}, cli.ExitUnavailable, "make run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := run(t, "", c.args...)
			if code != c.code || !strings.Contains(errs, c.says) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, c.code, errs, c.says)
			}
		})
	}
	run(t, "", append(admin, "teams", "create", "dup")...)
	if code, _, _ := run(t, "", append(admin, "teams", "create", "dup")...); code != cli.ExitConflict {
		t.Fatalf("duplicate: exit %d", code)
	}
}

func TestParseGPUQuota(t *testing.T) {
	qs, err := cli.ParseGPUQuotaForTest([]string{"a100=16:8", "h100=4"})
	if err != nil || len(qs) != 2 || qs[0].GpuType != "a100" || qs[0].Nominal != 16 || *qs[0].BorrowingLimit != 8 || qs[1].BorrowingLimit != nil {
		t.Fatalf("parse = %+v, %v", qs, err)
	}
	for _, bad := range []string{"a100", "=4", "a100=x", "a100=4:y"} {
		if _, err := cli.ParseGPUQuotaForTest([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
