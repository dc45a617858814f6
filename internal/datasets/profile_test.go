package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
)

func TestProfileCSV(t *testing.T) {
	data := "\ufeffage,plan,active,score,id\n" +
		"34,basic,true,0.5,1\n" +
		",pro,false,1e3,2\n" +
		"NA,basic,TRUE,-2.25,3\n" +
		"51,\"pro, annual\",false,7,4\n" +
		"34,basic,true,0.5,1\n" + // a duplicate of the first row
		"19,basic,false,,5\n"
	p, err := ProfileCSV(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(data))
	if p.ContentHash != "sha256:"+hex.EncodeToString(sum[:]) || p.RowCount != 6 || *p.Profile.DuplicateRows != 1 {
		t.Errorf("hash %s rows %d dups %d", p.ContentHash, p.RowCount, *p.Profile.DuplicateRows)
	}
	var schema []string
	for _, c := range p.Schema {
		schema = append(schema, fmt.Sprintf("%s:%s:%v", c.Name, c.Type, c.Optional))
	}
	if got := strings.Join(schema, " "); got != "age:integer:true plan:string:false active:boolean:false score:double:true id:integer:false" {
		t.Errorf("schema = %s", got)
	}
	want := map[string]string{"age": "nulls=2 distinct=3 min=19 max=51", "plan": "nulls=0 distinct=3 min=- max=-",
		"active": "nulls=0 distinct=3 min=- max=-", "score": "nulls=1 distinct=4 min=-2.25 max=1000", "id": "nulls=0 distinct=5 min=1 max=5"}
	for _, c := range p.Profile.Columns {
		got := fmt.Sprintf("nulls=%d distinct=%d min=%s max=%s", *c.Nulls, *c.Distinct, fl(c.Min), fl(c.Max))
		if got != want[c.Name] {
			t.Errorf("%s: %s, want %s", c.Name, got, want[c.Name])
		}
	}
}

func fl(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func TestProfileCSVErrors(t *testing.T) {
	for in, says := range map[string]string{
		"":                      "the CSV file is empty",
		"a,b\n1,2\n3\n":         "wrong number of fields",
		"a,a\n1,2\n":            `names column "a" twice`,
		"a,b\n\"unterminated\n": "read the CSV",
	} {
		if _, err := ProfileCSV(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ProfileCSV(%q) = %v, want %q", in, err, says)
		}
	}
}

// rowsReader streams n CSV rows with n distinct ids, never all in memory.
type rowsReader struct {
	i, n int
	buf  []byte
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.i > r.n {
			return 0, io.EOF
		}
		if r.i == 0 {
			r.buf = []byte("id,group\n")
		} else {
			r.buf = fmt.Appendf(nil, "%d,%d\n", r.i, r.i%10)
		}
		r.i++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func TestProfileCSVManyDistinctValuesAreEstimated(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles 300,000 rows")
	}
	const n = 300_000
	p, err := ProfileCSV(&rowsReader{n: n})
	if err != nil {
		t.Fatal(err)
	}
	id, group := p.Profile.Columns[0], p.Profile.Columns[1]
	if rel := math.Abs(float64(*id.Distinct)-n) / n; rel > 0.03 || *group.Distinct != 10 || p.RowCount != n || *id.Max != n {
		t.Errorf("distinct ids %d (%.2f%% off), groups %d, rows %d, max %v", *id.Distinct, 100*rel, *group.Distinct, p.RowCount, *id.Max)
	}
}
