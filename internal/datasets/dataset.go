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

// Column is one column of a dataset's schema.
type Column struct {
	Name     string
	Type     string // integer, double, boolean, string, …
	Optional bool
}

// Profile summarises the data, column by column.
type Profile struct {
	DuplicateRows *int64
	Columns       []ColumnProfile
}

// ColumnProfile is what is known of one column's values.
type ColumnProfile struct {
	Name     string
	Nulls    *int64
	Distinct *int64
	Min      *float64
	Max      *float64
}

// Report is the outcome of checking a profile against expectations.
type Report struct {
	Status string // QualityPassed, QualityFailed or QualityUnchecked
	Checks []Check
}

// Check is one expectation checked.
type Check struct {
	Column   string
	Check    string // present, maxNullFraction, min, max, duplicateRows
	Expected string
	Actual   string
	Passed   bool
	Message  string
}

// Failed returns the checks that did not pass.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Passed {
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
