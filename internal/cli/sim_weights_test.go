package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/cli"
)

// A team given weight 3 in `mlportal sim` borrows ahead of the others, so
// its jobs finish sooner than in the same replay with equal weights; bad
// --team-weight flags are refused with the trace's team names.
func TestSimTeamWeights(t *testing.T) {
	small := []string{"sim", "--jobs", "300", "--teams", "4", "--days", "0.5", "--nodes", "8", "--seed", "3", "-o", "json"}
	jct := func(args ...string) float64 {
		t.Helper()
		code, out, errs := run(t, "", append(append([]string{}, small...), args...)...)
		var res struct {
			MLPortal struct {
				Teams []struct {
					Team         string  `json:"team"`
					MeanJCTHours float64 `json:"meanJctHours"`
				} `json:"teams"`
			} `json:"mlportal"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
			t.Fatalf("sim %v: exit %d %s", args, code, errs)
		}
		for _, tr := range res.MLPortal.Teams {
			if tr.Team == "team-00" {
				return tr.MeanJCTHours
			}
		}
		t.Fatalf("sim %v: no team-00 in %s", args, out)
		return 0
	}
	equal, heavy := jct(), jct("--team-weight", "team-00=3")
	if !(heavy < equal) {
		t.Errorf("team-00's mean completion time with weight 3 is %.2f h, with weight 1 %.2f h; want it lower", heavy, equal)
	}

	for _, c := range []struct{ flag, says string }{
		{"team-00", "TEAM=WEIGHT"},
		{"team-00=0", "0.01-100"},
		{"team-00=many", "TEAM=WEIGHT"},
		{"team-99=2", "team-00, team-01, team-02, team-03"},
	} {
		code, _, errs := run(t, "", append(append([]string{}, small...), "--team-weight", c.flag)...)
		if code != cli.ExitUsage || !strings.Contains(errs, c.says) {
			t.Errorf("--team-weight %s: exit %d, stderr %q (want %q)", c.flag, code, errs, c.says)
		}
	}
}
