package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/cli"
)

// TestSim runs `mlportal sim` on a small generated trace: the table, the
// JSON form, a saved trace replayed from its file, and refused flags.
func TestSim(t *testing.T) {
	small := []string{"sim", "--jobs", "300", "--teams", "4", "--days", "0.5", "--nodes", "8", "--seed", "3"}
	code, out, errs := run(t, "", small...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Replayed 300 jobs of 4 teams", "METRIC", "MLPORTAL", "FIFO+FIRST-FIT", "mean job completion time",
		"GPU-hours idle while jobs waited", "fairness (Jain's index", "What it means:", "target ≥ 35%"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	path := filepath.Join(t.TempDir(), "trace.jsonl")
	code, out, errs = run(t, "", append(small, "--save-trace", path, "-o", "json")...)
	var res struct {
		Jobs     int `json:"jobs"`
		MLPortal struct {
			Completed    int     `json:"completed"`
			MeanJCTHours float64 `json:"meanJctHours"`
		} `json:"mlportal"`
		Baseline struct {
			Completed int `json:"completed"`
		} `json:"baseline"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Jobs != 300 || res.MLPortal.Completed != 300 || res.Baseline.Completed != 300 || res.MLPortal.MeanJCTHours <= 0 {
		t.Fatalf("json: exit %d %s %s", code, out, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil || strings.Count(string(b), "\n") != 300 {
		t.Fatalf("saved trace: %v", err)
	}
	code, again, errs := run(t, string(b), "sim", "--trace", "-", "--nodes", "8", "-o", "json")
	if code != 0 || again != out {
		t.Fatalf("replaying the saved trace from stdin differs: exit %d %s", code, errs)
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"bad price", []string{"sim", "--price", "a100"}, cli.ExitUsage, "TYPE=PRICE"},
		{"missing trace", []string{"sim", "--trace", filepath.Join(t.TempDir(), "none.jsonl")}, cli.ExitUsage, "cannot read the trace"},
		{"no teams", []string{"sim", "--teams", "0"}, cli.ExitUsage, "--teams"},
		{"too many teams", []string{"sim", "--teams", "5000"}, cli.ExitInvalid, "teams: must be 1-1000"},
		{"replica larger than a node", []string{"sim", "--jobs", "200", "--gpus-per-node", "4"}, cli.ExitInvalid, "gpusPerNode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := run(t, "", c.args...)
			if code != c.code || !strings.Contains(errs, c.says) || !strings.Contains(errs, "hint:") {
				t.Fatalf("exit %d (want %d), stderr %q (want %q and a hint)", code, c.code, errs, c.says)
			}
		})
	}
	code, _, errs = run(t, "not json\n", "sim", "--trace", "-")
	if code != cli.ExitInvalid || !strings.Contains(errs, "line 1") {
		t.Fatalf("bad trace: exit %d %q", code, errs)
	}
}
