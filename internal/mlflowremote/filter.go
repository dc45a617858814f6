package mlflowremote

import (
	"strings"

	"github.com/mlportal/mlportal/internal/tracking"
)

var prefixes = map[tracking.Entity]string{tracking.EntityMetric: "metrics.", tracking.EntityParam: "params.",
	tracking.EntityTag: "tags.", tracking.EntityDataset: "datasets."}

// key writes an entity key as MLflow's grammar reads it: attributes bare,
// others prefixed with the key in backticks.
func key(e tracking.Entity, k string) string {
	p, ok := prefixes[e]
	if !ok {
		return k
	}
	return p + "`" + k + "`"
}

func quote(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// filterString renders a parsed filter back into MLflow's grammar, with
// mapValue applied to each value of the given attribute keys (ids).
func filterString(f tracking.Filter, mapValue func(key, v string) string) string {
	parts := make([]string, 0, len(f))
	for _, c := range f {
		val := func(v string) string {
			if mapValue != nil && c.Entity == tracking.EntityAttribute {
				return mapValue(c.Key, v)
			}
			return v
		}
		s := key(c.Entity, c.Key) + " " + c.Op
		switch {
		case c.Op == tracking.OpIsNull || c.Op == tracking.OpIsNotNull:
		case c.Op == tracking.OpIn || c.Op == tracking.OpNotIn:
			vs := make([]string, len(c.Values))
			for i, v := range c.Values {
				vs[i] = quote(val(v))
			}
			s += " (" + strings.Join(vs, ", ") + ")"
		case c.IsNumber:
			s += " " + c.Value
		default:
			s += " " + quote(val(c.Value))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " AND ")
}

func orderStrings(os []tracking.OrderBy) []string {
	out := make([]string, 0, len(os))
	for _, o := range os {
		s := key(o.Entity, o.Key)
		if o.Desc {
			s += " DESC"
		} else {
			s += " ASC"
		}
		out = append(out, s)
	}
	return out
}

func viewType(v tracking.ViewType) string {
	switch v {
	case tracking.ViewDeletedOnly:
		return "DELETED_ONLY"
	case tracking.ViewAll:
		return "ALL"
	}
	return "ACTIVE_ONLY"
}
