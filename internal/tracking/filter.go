package tracking

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/mlportal/mlportal/internal/fault"
)

// Entity is what a filter or order-by key refers to.
type Entity string

// Entities of MLflow's search grammar.
const (
	EntityMetric    Entity = "metric"
	EntityParam     Entity = "param"
	EntityTag       Entity = "tag"
	EntityAttribute Entity = "attribute"
	EntityDataset   Entity = "dataset"
)

var entityNames = map[string]Entity{
	"metric": EntityMetric, "metrics": EntityMetric,
	"param": EntityParam, "params": EntityParam, "parameter": EntityParam, "parameters": EntityParam,
	"tag": EntityTag, "tags": EntityTag,
	"attribute": EntityAttribute, "attributes": EntityAttribute, "attr": EntityAttribute, "run": EntityAttribute,
	"dataset": EntityDataset, "datasets": EntityDataset,
}

// Comparison operators.
const (
	OpEq        = "="
	OpNe        = "!="
	OpLt        = "<"
	OpLe        = "<="
	OpGt        = ">"
	OpGe        = ">="
	OpLike      = "LIKE"
	OpILike     = "ILIKE"
	OpIn        = "IN"
	OpNotIn     = "NOT IN"
	OpIsNull    = "IS NULL"
	OpIsNotNull = "IS NOT NULL"
)

// Comparison is one clause of a filter: `<entity>.<key> <op> <value>`.
// A filter is the conjunction (AND) of its comparisons; MLflow's grammar has
// no OR.
type Comparison struct {
	Entity Entity
	Key    string
	Op     string
	// Value is the literal as written: the string for quoted values, the
	// number's text for numeric ones.
	Value    string
	IsNumber bool
	Number   float64
	// Values are the members of an IN / NOT IN list.
	Values []string
}

// Filter is a parsed search filter.
type Filter []Comparison

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'o' operator, '(' ')' ','
	text string
}

// ParseFilter parses MLflow's search filter grammar: comparisons joined by
// AND, each `entity.key OP value`, the key optionally quoted with backticks
// or double quotes, string values in single or double quotes. A bare key is
// an attribute. It checks the syntax only; callers check which keys and
// operators their entity supports.
func ParseFilter(s string) (Filter, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	var f Filter
	for i := 0; i < len(toks); {
		c, n, err := parseComparison(s, toks[i:])
		if err != nil {
			return nil, err
		}
		f = append(f, c)
		i += n
		if i == len(toks) {
			break
		}
		if toks[i].kind != 'i' || !strings.EqualFold(toks[i].text, "AND") {
			return nil, filterError(s, "expected AND between comparisons, got %q (MLflow filters support only AND)", toks[i].text)
		}
		i++
		if i == len(toks) {
			return nil, filterError(s, "the filter ends with AND")
		}
	}
	return f, nil
}

func filterError(filter, format string, args ...any) error {
	return fault.Invalid("invalid search filter '"+filter+"': "+fmt.Sprintf(format, args...),
		fault.Field("filter", format, args...))
}

func parseComparison(src string, toks []token) (Comparison, int, error) {
	var c Comparison
	if toks[0].kind != 'i' && toks[0].kind != 's' {
		return c, 0, filterError(src, "expected a key such as metrics.rmse, got %q", toks[0].text)
	}
	entity, key, err := splitIdentifier(src, toks[0])
	if err != nil {
		return c, 0, err
	}
	c.Entity, c.Key = entity, key
	n := 1
	if n >= len(toks) {
		return c, 0, filterError(src, "%q has no comparison operator", toks[0].text)
	}
	op := toks[n]
	switch {
	case op.kind == 'o':
		c.Op = op.text
	case op.kind == 'i':
		switch strings.ToUpper(op.text) {
		case "LIKE", "ILIKE", "IN":
			c.Op = strings.ToUpper(op.text)
		case "NOT":
			if n+1 < len(toks) && strings.EqualFold(toks[n+1].text, "IN") {
				c.Op, n = OpNotIn, n+1
			}
		case "IS":
			if n+2 < len(toks) && strings.EqualFold(toks[n+1].text, "NOT") && strings.EqualFold(toks[n+2].text, "NULL") {
				return Comparison{Entity: entity, Key: key, Op: OpIsNotNull}, n + 3, nil
			}
			if n+1 < len(toks) && strings.EqualFold(toks[n+1].text, "NULL") {
				return Comparison{Entity: entity, Key: key, Op: OpIsNull}, n + 2, nil
			}
		}
	}
	if c.Op == "" {
		return c, 0, filterError(src, "%q is not a comparison operator (use =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)", op.text)
	}
	n++
	if n >= len(toks) {
		return c, 0, filterError(src, "%s %s has no value", toks[0].text, c.Op)
	}
	if c.Op == OpIn || c.Op == OpNotIn {
		if toks[n].kind != '(' {
			return c, 0, filterError(src, "%s needs a parenthesised list such as ('a', 'b')", c.Op)
		}
		n++
		for {
			if n >= len(toks) || toks[n].kind != 's' {
				return c, 0, filterError(src, "%s lists quoted strings separated by commas", c.Op)
			}
			c.Values = append(c.Values, toks[n].text)
			n++
			if n < len(toks) && toks[n].kind == ',' {
				n++
				continue
			}
			if n < len(toks) && toks[n].kind == ')' {
				return c, n + 1, nil
			}
			return c, 0, filterError(src, "%s list is not closed with )", c.Op)
		}
	}
	v := toks[n]
	switch v.kind {
	case 's':
		c.Value = v.text
	case 'n':
		num, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return c, 0, filterError(src, "%q is not a number", v.text)
		}
		c.Value, c.IsNumber, c.Number = v.text, true, num
	default:
		return c, 0, filterError(src, "expected a quoted string or a number after %s, got %q", c.Op, v.text)
	}
	return c, n + 1, nil
}

// splitIdentifier turns `metrics.rmse`, “tags.`a b` “, `params."x"` or
// `status` into an entity and a key.
func splitIdentifier(src string, t token) (Entity, string, error) {
	if t.kind == 's' {
		return "", "", filterError(src, "a comparison must start with a key such as metrics.rmse, not the string '%s'", t.text)
	}
	text := t.text
	prefix, rest, found := strings.Cut(text, ".")
	if !found {
		return EntityAttribute, unquote(text), nil
	}
	e, ok := entityNames[strings.ToLower(prefix)]
	if !ok {
		return "", "", filterError(src, "invalid entity %q in %q (use metrics., params., tags., attributes. or datasets.)", prefix, text)
	}
	key := unquote(rest)
	if key == "" {
		return "", "", filterError(src, "%q has no key after the dot", text)
	}
	return e, key, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '`' && s[len(s)-1] == '`' || s[0] == '"' && s[len(s)-1] == '"') {
		return s[1 : len(s)-1]
	}
	return s
}

// lex splits a filter into tokens. An identifier may contain dots and quoted
// (backtick or double-quote) segments; a string is single- or double-quoted
// where it is a value.
func lex(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	expectValue := false
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')' || r == ',':
			out = append(out, token{kind: byte(r), text: string(r)})
			i++
		case r == '=' || r == '!' || r == '<' || r == '>':
			j := i + 1
			if j < len(rs) && rs[j] == '=' {
				j++
			}
			op := string(rs[i:j])
			if op == "!" {
				return nil, filterError(s, "'!' must be followed by '='")
			}
			out = append(out, token{kind: 'o', text: op})
			expectValue = true
			i = j
		case r == '\'' || (r == '"' && expectValue):
			j := i + 1
			var b strings.Builder
			for ; j < len(rs) && rs[j] != r; j++ {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
				}
				b.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, filterError(s, "a quoted string is not closed")
			}
			out = append(out, token{kind: 's', text: b.String()})
			i = j + 1
			expectValue = false
		case r == '-' || r == '+' || r == '.' || unicode.IsDigit(r):
			j := i + 1
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.' || rs[j] == 'e' || rs[j] == 'E' ||
				((rs[j] == '-' || rs[j] == '+') && (rs[j-1] == 'e' || rs[j-1] == 'E'))) {
				j++
			}
			out = append(out, token{kind: 'n', text: string(rs[i:j])})
			i = j
			expectValue = false
		default:
			j := i
			for j < len(rs) {
				c := rs[j]
				if c == '`' || c == '"' {
					k := j + 1
					for k < len(rs) && rs[k] != c {
						k++
					}
					if k >= len(rs) {
						return nil, filterError(s, "a quoted key is not closed")
					}
					j = k + 1
					continue
				}
				if unicode.IsSpace(c) || strings.ContainsRune("()=!<>,'", c) {
					break
				}
				j++
			}
			if j == i {
				return nil, filterError(s, "unexpected character %q", string(r))
			}
			word := string(rs[i:j])
			out = append(out, token{kind: 'i', text: word})
			switch strings.ToUpper(word) {
			case "LIKE", "ILIKE", "IN":
				expectValue = true
			default:
				expectValue = false
			}
			i = j
		}
	}
	return out, nil
}

// OrderBy is one key of an order-by list.
type OrderBy struct {
	Entity Entity
	Key    string
	Desc   bool
}

// ParseOrderBy parses `metrics.rmse DESC`, `attributes.start_time`,
// “params.`x y` ASC“.
func ParseOrderBy(s string) (OrderBy, error) {
	s = strings.TrimSpace(s)
	var o OrderBy
	fields := s
	upper := strings.ToUpper(s)
	switch {
	case strings.HasSuffix(upper, " DESC"):
		o.Desc, fields = true, strings.TrimSpace(s[:len(s)-5])
	case strings.HasSuffix(upper, " ASC"):
		fields = strings.TrimSpace(s[:len(s)-4])
	}
	if fields == "" {
		return o, fault.Invalid("invalid order_by clause '"+s+"': it names no key", fault.Field("order_by", "empty"))
	}
	e, key, err := splitIdentifier(s, token{kind: 'i', text: fields})
	if err != nil {
		return o, fault.Invalid("invalid order_by clause '"+s+"': use `<entity>.<key> [ASC|DESC]`, e.g. metrics.rmse DESC",
			fault.Field("order_by", "%s", s))
	}
	o.Entity, o.Key = e, key
	return o, nil
}
