package datasets

import "time"

// Quality statuses of a report.
const (
	QualityPassed    = "passed"
	QualityFailed    = "failed"
	QualityUnchecked = "unchecked"
)

// Dataset is a named dataset owned by a team, with its versions newest first.
type Dataset struct {
	Name     string
	Team     string
	Versions []Version
}

// Version is one registered content of a dataset.
type Version struct {
	Name        string
	Team        string
	Project     string
	Version     int
	URI         string
	ContentHash string // sha256:<hex>
	Description string
	RowCount    *int64
	Schema      []Column
	Profile     *Profile
	Quality     Report
	CreatedAt   time.Time
	CreatedBy   string
}

// Column is one column of a dataset's schema. The JSON names are how the
// store keeps it.
type Column struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // integer, double, boolean, string, …
	Optional bool   `json:"optional,omitempty"`
}

// Profile summarises the data, column by column.
type Profile struct {
	DuplicateRows *int64          `json:"duplicateRows,omitempty"`
	Columns       []ColumnProfile `json:"columns,omitempty"`
}

// ColumnProfile is what is known of one column's values.
type ColumnProfile struct {
	Name     string   `json:"name"`
	Nulls    *int64   `json:"nulls,omitempty"`
	Distinct *int64   `json:"distinct,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
}

// Report is the outcome of checking a profile against expectations.
type Report struct {
	Status string  `json:"status"` // QualityPassed, QualityFailed or QualityUnchecked
	Checks []Check `json:"checks"`
}

// Check is one expectation checked.
type Check struct {
	Column   string `json:"column,omitempty"`
	Check    string `json:"check"` // present, maxNullFraction, min, max, duplicateRows, expectations
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Passed   bool   `json:"passed"`
	// Skipped marks a check that could not be evaluated (the profile
	// lacks what it needs); it is not passed, and not a failure.
	Skipped bool   `json:"skipped,omitempty"`
	Message string `json:"message"`
}

// Failed returns the checks that were evaluated and did not pass.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Passed && !c.Skipped {
			out = append(out, c)
		}
	}
	return out
}

// Ref is a dataset version as a model version refers to it.
type Ref struct {
	Name    string
	Version int
	Digest  string
	URI     string
	Quality string
	// Failed holds the messages of the failed checks (quality failed).
	Failed []string
}
