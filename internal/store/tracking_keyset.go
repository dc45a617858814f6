package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

// sortKey is one ORDER BY term of a keyset-paginated search. expr must never
// be NULL (rank terms put missing values last; value terms COALESCE them), so
// the page predicate can compare it with = and < / >.
type sortKey struct {
	expr string
	desc bool
	kind byte // 'i' integer, 'f' float, 's' text
	// pinned: an equality filter fixes expr, so every row has the token's
	// value and the page predicate leaves the key out. A predicate on the
	// next key alone is one an index can seek to; the OR of every key's
	// term made each page of a model's versions scan from the first.
	pinned bool
}

func orderBySQL(keys []sortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		dir := " ASC"
		if k.desc {
			dir = " DESC"
		}
		parts[i] = k.expr + dir
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

// afterSQL returns the predicate selecting the rows strictly after vals in
// the keys' order: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ….
func afterSQL(keys []sortKey, vals []any) (string, []any) {
	var ors []string
	var args []any
	for i := range keys {
		if keys[i].pinned {
			continue
		}
		var ands []string
		for j := 0; j < i; j++ {
			if keys[j].pinned {
				continue
			}
			ands = append(ands, keys[j].expr+" = ?")
			args = append(args, vals[j])
		}
		op := " > ?"
		if keys[i].desc {
			op = " < ?"
		}
		ands = append(ands, keys[i].expr+op)
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	if len(ors) == 0 { // every key pinned: no row comes after
		return "1 = 0", nil
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// encodeToken makes the opaque page token from the last row's sort values.
func encodeToken(vals []any) string {
	enc := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case string:
			enc[i] = "s" + x
		case float64:
			enc[i] = "f" + strconv.FormatFloat(x, 'g', -1, 64)
		case int64:
			enc[i] = "i" + strconv.FormatInt(x, 10)
		default:
			enc[i] = "s" + fmt.Sprint(x)
		}
	}
	b, _ := json.Marshal(enc)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads a page token made by encodeToken for the same keys.
func decodeToken(tok string, keys []sortKey) ([]any, error) {
	bad := fault.Invalid("invalid page_token: pass the next_page_token of the previous response unchanged, with the same filter and order_by",
		fault.Field("page_token", "not a token this search issued"))
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, bad
	}
	var enc []string
	if json.Unmarshal(b, &enc) != nil || len(enc) != len(keys) {
		return nil, bad
	}
	vals := make([]any, len(enc))
	for i, e := range enc {
		if e == "" || e[0] != keys[i].kind {
			return nil, bad
		}
		switch e[0] {
		case 's':
			vals[i] = e[1:]
		case 'f':
			f, err := strconv.ParseFloat(e[1:], 64)
			if err != nil {
				return nil, bad
			}
			vals[i] = f
		case 'i':
			n, err := strconv.ParseInt(e[1:], 10, 64)
			if err != nil {
				return nil, bad
			}
			vals[i] = n
		default:
			return nil, bad
		}
	}
	return vals, nil
}

// scanKeys returns destinations for the sort values of a row.
func scanKeys(keys []sortKey) ([]any, func() []any) {
	dst := make([]any, len(keys))
	for i, k := range keys {
		switch k.kind {
		case 's':
			dst[i] = new(string)
		case 'f':
			dst[i] = new(float64)
		default:
			dst[i] = new(int64)
		}
	}
	return dst, func() []any {
		out := make([]any, len(keys))
		for i, d := range dst {
			switch x := d.(type) {
			case *string:
				out[i] = *x
			case *float64:
				out[i] = *x
			case *int64:
				out[i] = *x
			}
		}
		return out
	}
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// globPattern turns a SQL LIKE pattern into a SQLite GLOB pattern, which is
// case-sensitive as MLflow's LIKE is.
func globPattern(like string) string {
	var b strings.Builder
	for _, r := range like {
		switch r {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '[':
			b.WriteString("[" + string(r) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
