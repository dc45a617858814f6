package datasets

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Profiled is what ProfileCSV learns from a CSV file.
type Profiled struct {
	ContentHash string // sha256:<hex> of the file's bytes
	RowCount    int64  // data rows, the header excluded
	Schema      []Column
	Profile     Profile
}

// nullTokens are the cell values read as missing (pandas reads the same
// ones as NaN by default).
var nullTokens = map[string]bool{"": true, "NA": true, "N/A": true, "n/a": true, "NaN": true, "nan": true, "null": true,
	"NULL": true, "None": true, "#N/A": true, "<NA>": true}

// exactDistinct is how many distinct values of a column are counted
// exactly; beyond it the count is a HyperLogLog estimate (about 1% off),
// so memory stays bounded however large the file.
const exactDistinct = 100_000

// ProfileCSV reads a CSV file with a header row to its end, in one pass
// and without holding it in memory, and returns its SHA-256, row count,
// inferred column types (integer, double, boolean or string) and profile:
// per column the nulls, distinct values and, for numeric columns, min and
// max; and the number of rows that repeat an earlier row. Duplicate rows
// are found by a 64-bit hash of each row (about 16 bytes of memory a row).
func ProfileCSV(r io.Reader) (Profiled, error) {
	h := sha256.New()
	tee := io.TeeReader(r, h)
	cr := csv.NewReader(tee)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return Profiled{}, fmt.Errorf("the CSV file is empty: it needs a header row naming the columns")
	}
	if err != nil {
		return Profiled{}, fmt.Errorf("read the CSV header: %w", err)
	}
	cols := make([]*columnStats, len(header))
	seen := map[string]bool{}
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		if name == "" {
			name = fmt.Sprintf("column_%d", i+1)
		}
		if seen[name] {
			return Profiled{}, fmt.Errorf("the CSV header names column %q twice; give every column its own name", name)
		}
		seen[name] = true
		cols[i] = newColumnStats(name)
	}
	seed := maphash.MakeSeed()
	rowsSeen := map[uint64]struct{}{}
	var out Profiled
	var dups int64
	var rh maphash.Hash
	rh.SetSeed(seed)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Profiled{}, fmt.Errorf("read the CSV file: %w", err)
		}
		out.RowCount++
		rh.Reset()
		for i, v := range rec {
			cols[i].add(v, seed)
			rh.WriteString(v)
			rh.WriteByte(0)
		}
		k := rh.Sum64()
		if _, ok := rowsSeen[k]; ok {
			dups++
		} else {
			rowsSeen[k] = struct{}{}
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // hash every byte, whatever csv left unread
		return Profiled{}, err
	}
	out.ContentHash = "sha256:" + hex.EncodeToString(h.Sum(nil))
	out.Profile.DuplicateRows = &dups
	for _, c := range cols {
		col, prof := c.result()
		out.Schema = append(out.Schema, col)
		out.Profile.Columns = append(out.Profile.Columns, prof)
	}
	return out, nil
}

// kind is a column's inferred type, widening as values are seen.
type kind int

const (
	kindNone kind = iota // only nulls so far
	kindBool
	kindInt
	kindDouble
	kindString
)

var kindNames = map[kind]string{kindNone: "string", kindBool: "boolean", kindInt: "integer", kindDouble: "double", kindString: "string"}

type columnStats struct {
	name     string
	kind     kind
	nulls    int64
	min, max float64
	numeric  bool // min and max are set
	exact    map[uint64]struct{}
	hll      *hyperLogLog
}

func newColumnStats(name string) *columnStats {
	return &columnStats{name: name, exact: map[uint64]struct{}{}}
}

func (c *columnStats) add(v string, seed maphash.Seed) {
	if nullTokens[v] {
		c.nulls++
		return
	}
	k := maphash.String(seed, v)
	if c.hll != nil {
		c.hll.add(k)
	} else {
		c.exact[k] = struct{}{}
		if len(c.exact) > exactDistinct {
			c.hll = newHyperLogLog()
			for x := range c.exact {
				c.hll.add(x)
			}
			c.exact = nil
		}
	}
	c.widen(v)
}

// widen updates the inferred type and, for numbers, min and max.
func (c *columnStats) widen(v string) {
	if c.kind == kindString {
		return
	}
	t := strings.TrimSpace(v)
	if c.kind == kindNone || c.kind == kindBool {
		if _, err := strconv.ParseBool(strings.ToLower(t)); err == nil && !isDigits(t) {
			c.kind = kindBool
			return
		}
		if c.kind == kindBool {
			c.kind = kindString
			return
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) {
		c.kind, c.numeric = kindString, false
		return
	}
	if _, err := strconv.ParseInt(t, 10, 64); err == nil && c.kind != kindDouble {
		c.kind = kindInt
	} else {
		c.kind = kindDouble
	}
	if !c.numeric {
		c.min, c.max, c.numeric = f, f, true
		return
	}
	c.min, c.max = math.Min(c.min, f), math.Max(c.max, f)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func (c *columnStats) result() (Column, ColumnProfile) {
	nulls := c.nulls
	distinct := int64(len(c.exact))
	if c.hll != nil {
		distinct = c.hll.estimate()
	}
	p := ColumnProfile{Name: c.name, Nulls: &nulls, Distinct: &distinct}
	if c.numeric && (c.kind == kindInt || c.kind == kindDouble) && !math.IsInf(c.min, 0) && !math.IsInf(c.max, 0) {
		lo, hi := c.min, c.max
		p.Min, p.Max = &lo, &hi
	}
	return Column{Name: c.name, Type: kindNames[c.kind], Optional: c.nulls > 0}, p
}

// hyperLogLog estimates the number of distinct 64-bit hashes in 16 KiB
// (2^14 registers: a standard error of about 0.8%).
type hyperLogLog struct{ reg []uint8 }

const hllBits = 14

func newHyperLogLog() *hyperLogLog { return &hyperLogLog{reg: make([]uint8, 1<<hllBits)} }

func (h *hyperLogLog) add(x uint64) {
	i := x >> (64 - hllBits)
	rank := uint8(bits.LeadingZeros64(x<<hllBits|1<<(hllBits-1)) + 1)
	if rank > h.reg[i] {
		h.reg[i] = rank
	}
}

func (h *hyperLogLog) estimate() int64 {
	m := float64(len(h.reg))
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 { // small range: linear counting
		e = m * math.Log(m/float64(zeros))
	}
	return int64(math.Round(e))
}
