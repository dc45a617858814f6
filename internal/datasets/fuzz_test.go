package datasets

import (
	"strings"
	"testing"
)

// FuzzProfileCSV feeds arbitrary files: profiling never panics, and a
// profile it returns is consistent with the row count.
func FuzzProfileCSV(f *testing.F) {
	f.Add("a,b\n1,x\n,y\n1,x\n")
	f.Add("\ufeffage\nNA\n3.5\n-1e9\n")
	f.Add("a,b\n\"q,\"\"x\",2\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ProfileCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		if *p.Profile.DuplicateRows > p.RowCount || len(p.Schema) != len(p.Profile.Columns) {
			t.Errorf("inconsistent profile: %+v", p)
		}
		for _, c := range p.Profile.Columns {
			if *c.Nulls > p.RowCount || (c.Min != nil && c.Max != nil && *c.Min > *c.Max) {
				t.Errorf("column %+v of %d rows", c, p.RowCount)
			}
		}
	})
}
