package datasets

import (
	"fmt"
	"math"
	"strconv"

	"github.com/mlportal/mlportal/internal/lifecycle"
)

// Evaluate checks a dataset's profile against a lifecycle template's
// dataExpectations. For each expected column: it is present; its share of
// nulls is at most maxNullFraction; its smallest value is at least min and
// its largest at most max. Duplicate rows are reported for information
// (templates set no limit on them). The report has failed when any check
// failed, is unchecked when none failed but some could not be evaluated
// (or nothing was expected), and passed otherwise.
func Evaluate(exps []lifecycle.ColumnExpectation, rows *int64, schema []Column, profile *Profile) Report {
	r := Report{Checks: []Check{}}
	if profile != nil && profile.DuplicateRows != nil {
		n := *profile.DuplicateRows
		c := Check{Check: "duplicateRows", Actual: strconv.FormatInt(n, 10), Passed: true, Message: "no duplicate rows"}
		if n > 0 {
			c.Message = fmt.Sprintf("%d duplicate rows (for information: the template sets no limit on duplicates)", n)
			if n == 1 {
				c.Message = "1 duplicate row (for information: the template sets no limit on duplicates)"
			}
		}
		r.Checks = append(r.Checks, c)
	}
	if len(exps) == 0 {
		r.Status = QualityUnchecked
		r.Checks = append(r.Checks, Check{Check: "expectations", Passed: true, Skipped: true,
			Message: "nothing to check against: register the dataset with a project whose lifecycle template declares dataExpectations"})
		return r
	}
	cols := map[string]ColumnProfile{}
	if profile != nil {
		for _, c := range profile.Columns {
			cols[c.Name] = c
		}
	}
	inSchema := map[string]bool{}
	for _, c := range schema {
		inSchema[c.Name] = true
	}
	known := profile != nil || len(schema) > 0
	for _, e := range exps {
		cp, profiled := cols[e.Column]
		present := profiled || inSchema[e.Column]
		switch {
		case !known:
			r.Checks = append(r.Checks, skipped(e.Column, "present", "", "no schema or profile was registered, so the columns are unknown"))
			continue
		case !present:
			r.Checks = append(r.Checks, Check{Column: e.Column, Check: "present", Expected: "present", Actual: "missing",
				Message: fmt.Sprintf("column %q is missing: the template expects it", e.Column)})
			continue
		}
		r.Checks = append(r.Checks, Check{Column: e.Column, Check: "present", Expected: "present", Actual: "present", Passed: true,
			Message: fmt.Sprintf("column %q is present", e.Column)})
		if e.MaxNullFraction != nil {
			r.Checks = append(r.Checks, nullCheck(e.Column, *e.MaxNullFraction, cp.Nulls, rows))
		}
		if e.Min != nil {
			r.Checks = append(r.Checks, boundCheck(e.Column, "min", *e.Min, cp.Min))
		}
		if e.Max != nil {
			r.Checks = append(r.Checks, boundCheck(e.Column, "max", *e.Max, cp.Max))
		}
	}
	r.Status = QualityPassed
	for _, c := range r.Checks {
		switch {
		case !c.Passed && !c.Skipped:
			r.Status = QualityFailed
		case c.Skipped && r.Status == QualityPassed:
			r.Status = QualityUnchecked
		}
	}
	return r
}

func skipped(column, check, expected, why string) Check {
	return Check{Column: column, Check: check, Expected: expected, Actual: "unknown", Skipped: true,
		Message: fmt.Sprintf("column %q not checked (%s): %s", column, check, why)}
}

func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e4)/1e2, 'f', -1, 64) + "%"
}

func nullCheck(column string, max float64, nulls, rows *int64) Check {
	expected := "at most " + percent(max) + " null"
	if nulls == nil {
		return skipped(column, "maxNullFraction", expected, "the profile has no null count for it (`mlportal datasets register` computes one for CSV files)")
	}
	if rows == nil {
		if *nulls == 0 {
			return Check{Column: column, Check: "maxNullFraction", Expected: expected, Actual: "0 nulls", Passed: true,
				Message: fmt.Sprintf("column %q has no nulls", column)}
		}
		return skipped(column, "maxNullFraction", expected, "the row count is unknown, so the share of nulls is too (register it with rowCount)")
	}
	frac := 0.0
	if *rows > 0 {
		frac = float64(*nulls) / float64(*rows)
	}
	c := Check{Column: column, Check: "maxNullFraction", Expected: expected, Actual: percent(frac) + " null", Passed: frac <= max+1e-12}
	if c.Passed {
		c.Message = fmt.Sprintf("column %q is %s null (%d of %d rows), within the %s allowed", column, percent(frac), *nulls, *rows, percent(max))
	} else {
		c.Message = fmt.Sprintf("column %q is %s null (%d of %d rows); the template allows at most %s", column, percent(frac), *nulls, *rows, percent(max))
	}
	return c
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func boundCheck(column, which string, bound float64, actual *float64) Check {
	word, cmp := "smallest", "at least"
	if which == "max" {
		word, cmp = "largest", "at most"
	}
	expected := cmp + " " + num(bound)
	if actual == nil {
		return skipped(column, which, expected, fmt.Sprintf("the profile has no %s value for it (not a numeric column, or not profiled)", word))
	}
	ok := *actual >= bound
	if which == "max" {
		ok = *actual <= bound
	}
	c := Check{Column: column, Check: which, Expected: expected, Actual: num(*actual), Passed: ok}
	if ok {
		c.Message = fmt.Sprintf("column %q: %s value %s is %s %s", column, word, num(*actual), cmp, num(bound))
	} else {
		c.Message = fmt.Sprintf("column %q: %s value %s is out of range; the template expects %s %s", column, word, num(*actual), cmp, num(bound))
	}
	return c
}
