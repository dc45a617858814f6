package datasets

import (
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/lifecycle"
)

func f(v float64) *float64 { return &v }
func n(v int64) *int64     { return &v }

func TestEvaluate(t *testing.T) {
	exps := []lifecycle.ColumnExpectation{
		{Column: "age", MaxNullFraction: f(0.05), Min: f(0), Max: f(120)},
		{Column: "plan", MaxNullFraction: f(0)},
	}
	schema := []Column{{Name: "age", Type: "double"}, {Name: "plan", Type: "string"}}
	good := &Profile{DuplicateRows: n(0), Columns: []ColumnProfile{{Name: "age", Nulls: n(10), Min: f(18), Max: f(99)}, {Name: "plan", Nulls: n(0)}}}
	cases := []struct {
		name    string
		exps    []lifecycle.ColumnExpectation
		rows    *int64
		schema  []Column
		profile *Profile
		status  string
		says    []string // in the messages of checks that did not pass (or all, when passed)
	}{
		{"passes", exps, n(1000), schema, good, QualityPassed,
			[]string{`column "age" is 1% null (10 of 1000 rows), within the 5% allowed`, "smallest value 18 is at least 0", "no duplicate rows"}},
		{"too many nulls and out of range", exps, n(1000), schema,
			&Profile{DuplicateRows: n(7), Columns: []ColumnProfile{{Name: "age", Nulls: n(120), Min: f(-3), Max: f(130)}, {Name: "plan", Nulls: n(1)}}},
			QualityFailed, []string{`column "age" is 12% null (120 of 1000 rows); the template allows at most 5%`,
				`column "age": smallest value -3 is out of range; the template expects at least 0`,
				`column "age": largest value 130 is out of range; the template expects at most 120`,
				`column "plan" is 0.1% null (1 of 1000 rows); the template allows at most 0%`}},
		{"a missing column", exps, n(10), []Column{{Name: "age"}}, &Profile{Columns: []ColumnProfile{{Name: "age", Nulls: n(0), Min: f(1), Max: f(2)}}},
			QualityFailed, []string{`column "plan" is missing: the template expects it`}},
		{"no profile: unchecked", exps, n(10), nil, nil, QualityUnchecked, []string{"no schema or profile was registered"}},
		{"schema only: present, the rest unchecked", exps, n(10), schema, nil, QualityUnchecked,
			[]string{"the profile has no null count", "has no smallest value"}},
		{"no row count but no nulls", exps[1:], nil, schema, good, QualityPassed, []string{`column "plan" has no nulls`}},
		{"no row count with nulls", exps[:1], nil, schema, good, QualityUnchecked, []string{"the row count is unknown"}},
		{"an empty dataset has no nulls to speak of", exps[1:], n(0), schema, &Profile{Columns: []ColumnProfile{{Name: "plan", Nulls: n(0)}}},
			QualityPassed, []string{`column "plan" is 0% null (0 of 0 rows)`}},
		{"nothing expected", nil, n(10), schema, good, QualityUnchecked, []string{"nothing to check against"}},
		{"duplicates are information only", exps[1:], n(10), schema, &Profile{DuplicateRows: n(3), Columns: []ColumnProfile{{Name: "plan", Nulls: n(0)}}},
			QualityPassed, []string{"3 duplicate rows (for information"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Evaluate(c.exps, c.rows, c.schema, c.profile)
			if r.Status != c.status {
				t.Errorf("status = %s, want %s: %+v", r.Status, c.status, r.Checks)
			}
			var msgs []string
			for _, ch := range r.Checks {
				if !ch.Passed || c.status == QualityPassed || ch.Check == "duplicateRows" || ch.Check == "expectations" {
					msgs = append(msgs, ch.Message)
				}
			}
			all := strings.Join(msgs, "\n")
			for _, s := range c.says {
				if !strings.Contains(all, s) {
					t.Errorf("messages lack %q:\n%s", s, all)
				}
			}
			if c.status == QualityFailed && len(r.Failed()) == 0 {
				t.Error("failed report without failed checks")
			}
			if c.status != QualityFailed && len(r.Failed()) != 0 {
				t.Errorf("unexpected failed checks: %+v", r.Failed())
			}
		})
	}
}
