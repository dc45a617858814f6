package tracking

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mlportal/mlportal/internal/fault"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "[]"},
		{"metrics.rmse < 0.8", "[metric/rmse < 0.8]"},
		{"metrics.x < 0.8 and params.p = 'a' and tags.`mlflow.runName` LIKE '%a%' and attributes.status = 'FINISHED'",
			"[metric/x < 0.8 param/p = a tag/mlflow.runName LIKE %a% attribute/status = FINISHED]"},
		{`params."my key" != "v"`, "[param/my key != v]"},
		{"attributes.run_id IN ('a', 'b')", "[attribute/run_id IN [a b]]"},
		{"run_name NOT IN ('x')", "[attribute/run_name NOT IN [x]]"},
		{"tags.t IS NULL AND tags.u IS NOT NULL", "[tag/t IS NULL  tag/u IS NOT NULL ]"},
		{"metric.acc >= -1e-3", "[metric/acc >= -1e-3]"},
		{"datasets.name ILIKE 'tr%'", "[dataset/name ILIKE tr%]"},
		{"attributes.start_time > 1700000000000", "[attribute/start_time > 1700000000000]"},
		{"name = 'it''s'", ""},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseFilter(%q) = %v, want an error", tt.in, f)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, c := range f {
			v := c.Value
			if c.Values != nil {
				v = fmt.Sprint(c.Values)
			}
			got = append(got, fmt.Sprintf("%s/%s %s %s", c.Entity, c.Key, c.Op, v))
		}
		if g := fmt.Sprint(got); g != tt.want && !(len(got) == 0 && tt.want == "[]") {
			t.Errorf("ParseFilter(%q) = %s, want %s", tt.in, g, tt.want)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, in := range []string{
		"metrics.rmse", "metrics.rmse <", "metrics.rmse < 1 or params.a = 'b'", "foo.bar = 'x'",
		"params.a = 'unclosed", "attributes.run_id IN 'a'", "metrics.rmse < 1 and", "a ! b",
	} {
		_, err := ParseFilter(in)
		if !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("ParseFilter(%q) = %v, want an ErrInvalid", in, err)
		}
	}
}

func TestCheckRunFilter(t *testing.T) {
	for in, ok := range map[string]bool{
		"metrics.rmse < 0.5":                      true,
		"metrics.rmse LIKE 'a'":                   false,
		"metrics.rmse < 'a'":                      false,
		"params.p = 1":                            false,
		"attributes.created > 5":                  true,
		"attributes.start_time = 'x'":             false,
		"attributes.nope = 'x'":                   false,
		"attributes.status IN ('FINISHED')":       true,
		"tags.t ILIKE '%x%'":                      true,
		"datasets.digest = 'abc'":                 true,
		"datasets.other = 'abc'":                  false,
		"`Run name` = 'x'":                        true,
		"attributes.end_time IS NULL":             false,
		"params.p IS NOT NULL and tags.t IS NULL": true,
	} {
		f, err := ParseFilter(in)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", in, err)
		}
		if err := CheckRunFilter(f); (err == nil) != ok {
			t.Errorf("CheckRunFilter(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestParseOrderBy(t *testing.T) {
	for in, want := range map[string]string{
		"metrics.rmse DESC":     "metric/rmse desc=true",
		"attributes.start_time": "attribute/start_time desc=false",
		"params.`x y` ASC":      "param/x y desc=false",
		"start_time desc":       "attribute/start_time desc=true",
	} {
		o, err := ParseOrderBy(in)
		if err != nil {
			t.Errorf("ParseOrderBy(%q): %v", in, err)
			continue
		}
		if got := fmt.Sprintf("%s/%s desc=%v", o.Entity, o.Key, o.Desc); got != want {
			t.Errorf("ParseOrderBy(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestValidateBatch(t *testing.T) {
	many := func(n int) []Metric { return make([]Metric, n) }
	cases := []struct {
		b  Batch
		ok bool
	}{
		{Batch{Metrics: fill(many(1000))}, true},
		{Batch{Metrics: fill(many(1001))}, false},
		{Batch{Params: make([]Param, 101)}, false},
		{Batch{Tags: make([]Tag, 101)}, false},
		{Batch{Params: []Param{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}}, false},
		{Batch{Params: []Param{{Key: "a", Value: "1"}, {Key: "a", Value: "1"}}}, true},
		{Batch{Params: []Param{{Key: "../etc", Value: "1"}}}, false},
	}
	for i, c := range cases {
		if err := ValidateBatch(c.b); (err == nil) != c.ok {
			t.Errorf("case %d: ValidateBatch = %v, want ok=%v", i, err, c.ok)
		}
	}
}

func fill(ms []Metric) []Metric {
	for i := range ms {
		ms[i].Key = "m"
	}
	return ms
}

// FuzzParseFilter: any input either parses or is an ErrInvalid; never a
// panic, never another kind of error.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"metrics.rmse < 0.8 and params.p = 'a'", "tags.`a b` LIKE '%x'", "attributes.run_id IN ('a','b')",
		"params.p IS NOT NULL", `params."k" = "v"`, "metrics.x >= -1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFilter(s)
		if err != nil {
			if !errors.Is(err, fault.ErrInvalid) {
				t.Fatalf("ParseFilter(%q) = %v, not ErrInvalid", s, err)
			}
			return
		}
		_ = CheckRunFilter(fl)
	})
}
