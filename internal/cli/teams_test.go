package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/cli"
)

// The fair-share weight is set on create, shown by list and get, and
// changed by update, which keeps every field it is not given.
func TestTeamsWeight(t *testing.T) {
	url := server(t)
	admin := []string{"--server", url, "--token", "root"}
	teams := func(args ...string) (int, string, string) {
		t.Helper()
		return run(t, "", append(append(append([]string{}, admin...), "teams"), args...)...)
	}
	if code, out, errs := teams("create", "vision", "--display-name", "Vision", "--member", "user:default/alice=maintainer",
		"--gpu-quota", "a100=16:8", "--weight", "3"); code != 0 {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	if code, _, errs := teams("create", "nlp"); code != 0 {
		t.Fatalf("create without a weight: %d %q", code, errs)
	}
	code, out, _ := teams("list")
	if code != 0 || !strings.Contains(out, "WEIGHT") {
		t.Fatalf("list: %d %q", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && (f[0] == "vision" && f[len(f)-2] != "3" || f[0] == "nlp" && f[len(f)-2] != "1") {
			t.Errorf("list row %q: wrong weight", line)
		}
	}
	if code, out, _ = teams("get", "vision"); code != 0 || !strings.Contains(out, "fair-share weight: 3\n") {
		t.Fatalf("get: %d %q", code, out)
	}

	if code, out, errs := teams("update", "vision", "--weight", "0.5"); code != 0 || !strings.Contains(out, "fair-share weight 0.5") {
		t.Fatalf("update --weight: %d %q %q", code, out, errs)
	}
	if code, out, errs := teams("update", "vision", "--description", "sees things"); code != 0 {
		t.Fatalf("update --description: %d %q %q", code, out, errs)
	}
	code, out, _ = teams("get", "vision", "-o", "json")
	var got struct {
		DisplayName, Description string
		FairShareWeight          float64
		Members                  []map[string]any
		GpuQuota                 []map[string]any
		Version                  int
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("get json: %d %q", code, out)
	}
	if got.DisplayName != "Vision" || got.Description != "sees things" || got.FairShareWeight != 0.5 || len(got.Members) != 1 ||
		len(got.GpuQuota) != 1 || got.GpuQuota[0]["borrowingLimit"] != float64(8) || got.Version != 3 {
		t.Errorf("after two updates the team lost a field it was not given: %+v", got)
	}

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"create", "heavy", "--weight", "0"}, cli.ExitInvalid, "fairShareWeight"},
		{[]string{"update", "vision", "--weight", "250"}, cli.ExitInvalid, "fairShareWeight"},
		{[]string{"update", "vision", "--weight", "many"}, cli.ExitUsage, "--weight"},
		{[]string{"update", "vision"}, cli.ExitUsage, "nothing to change"},
		{[]string{"update", "missing", "--weight", "2"}, cli.ExitNotFound, "not found"},
	} {
		if code, _, errs := teams(c.args...); code != c.code || !strings.Contains(errs, c.says) {
			t.Errorf("teams %v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errs, c.says)
		}
	}
}
