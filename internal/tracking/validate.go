package tracking

import (
	"fmt"

	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

// MLflow's limits, enforced as its own server does.
const (
	MaxMetricsPerBatch    = 1000
	MaxParamsPerBatch     = 100
	MaxTagsPerBatch       = 100
	MaxEntitiesPerBatch   = 1000
	MaxParamValueLength   = 6000
	MaxTagValueLength     = 8000
	MaxKeyLength          = 250
	MaxExperimentNameLen  = 500
	SearchMaxResults      = 50000
	SearchDefaultResults  = 1000
	ModelsDefaultResults  = 100
	HistoryDefaultResults = 25000
)

// TagTeam names the team that owns an experiment or registered model.
const TagTeam = "mlportal.team"

// TagRunName is the tag MLflow mirrors the run name into.
const TagRunName = "mlflow.runName"

func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return fault.Invalid(msg, fault.Field(field, "%s", msg))
}

// validKey checks a metric, param or tag key the way MLflow does: non-empty,
// at most 250 characters, no path tricks.
func validKey(kind, key string) error {
	if key == "" {
		return invalid("key", "%s key must be a non-empty string", kind)
	}
	if len(key) > MaxKeyLength {
		return invalid("key", "%s key '%s' had length %d, which exceeded length limit of %d", kind, key[:20]+"...", len(key), MaxKeyLength)
	}
	if strings.HasPrefix(key, "/") || strings.Contains(key, "//") || key == "." || strings.HasPrefix(key, "../") ||
		strings.Contains(key, "/../") || strings.HasSuffix(key, "/..") || key == ".." {
		return invalid("key", "invalid %s name: '%s'; names may be alphanumeric with _ - . space / (no leading /, no ..)", kind, key)
	}
	return nil
}

// ValidateBatch applies MLflow's log-batch limits and per-entity rules.
func ValidateBatch(b Batch) error {
	if len(b.Metrics) > MaxMetricsPerBatch {
		return invalid("metrics", "a batch logging request can contain at most %d metrics. Got %d metrics. Please split up metrics across multiple requests and try again.", MaxMetricsPerBatch, len(b.Metrics))
	}
	if len(b.Params) > MaxParamsPerBatch {
		return invalid("params", "a batch logging request can contain at most %d params. Got %d params. Please split up params across multiple requests and try again.", MaxParamsPerBatch, len(b.Params))
	}
	if len(b.Tags) > MaxTagsPerBatch {
		return invalid("tags", "a batch logging request can contain at most %d tags. Got %d tags. Please split up tags across multiple requests and try again.", MaxTagsPerBatch, len(b.Tags))
	}
	if n := len(b.Metrics) + len(b.Params) + len(b.Tags); n > MaxEntitiesPerBatch {
		return invalid("metrics", "a batch logging request can contain at most %d metrics, params and tags in total. Got %d.", MaxEntitiesPerBatch, n)
	}
	for _, m := range b.Metrics {
		if err := validKey("metric", m.Key); err != nil {
			return err
		}
	}
	seen := make(map[string]string, len(b.Params))
	for _, p := range b.Params {
		if err := validKey("param", p.Key); err != nil {
			return err
		}
		if len(p.Value) > MaxParamValueLength {
			return invalid("params", "param value for key '%s' had length %d, which exceeded length limit of %d", p.Key, len(p.Value), MaxParamValueLength)
		}
		if v, dup := seen[p.Key]; dup && v != p.Value {
			return invalid("params", "duplicate parameter keys have been submitted: ['%s']. Please ensure the request contains only one param value per param key.", p.Key)
		}
		seen[p.Key] = p.Value
	}
	for _, t := range b.Tags {
		if err := validTag(t); err != nil {
			return err
		}
	}
	return nil
}

func validTag(t Tag) error {
	if err := validKey("tag", t.Key); err != nil {
		return err
	}
	if len(t.Value) > MaxTagValueLength {
		return invalid("value", "tag value for key '%s' had length %d, which exceeded length limit of %d", t.Key, len(t.Value), MaxTagValueLength)
	}
	return nil
}

// ValidateExperimentName checks a new or changed experiment name.
func ValidateExperimentName(name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid("name", "invalid experiment name: '%s'; give the experiment a non-empty name", name)
	}
	if len(name) > MaxExperimentNameLen {
		return invalid("name", "experiment name exceeds the maximum length of %d characters", MaxExperimentNameLen)
	}
	return nil
}

// MaxResults checks a max_results value against MLflow's bounds and
// applies the default when it is 0.
func MaxResults(n, def, limit int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0:
		return 0, invalid("max_results", "invalid value %d for parameter 'max_results' supplied: it must be a positive integer", n)
	case n > limit:
		return 0, invalid("max_results", "invalid value %d for parameter 'max_results' supplied: it must be at most %d", n, limit)
	}
	return n, nil
}

// runAttributes maps the attribute names MLflow's run search accepts to
// canonical ones; numeric ones compare as numbers.
var runAttributes = map[string]string{
	"run_id": "run_id", "run_name": "run_name", "run name": "run_name", "Run name": "run_name", "Run Name": "run_name",
	"status": "status", "user_id": "user_id", "artifact_uri": "artifact_uri", "lifecycle_stage": "lifecycle_stage",
	"start_time": "start_time", "end_time": "end_time", "created": "start_time", "Created": "start_time",
}

// NumericRunAttribute reports whether a canonical run attribute is numeric.
func NumericRunAttribute(a string) bool { return a == "start_time" || a == "end_time" }

var (
	numericOps = []string{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe}
	stringOps  = []string{OpEq, OpNe, OpLike, OpILike, OpIn, OpNotIn}
	keyedOps   = []string{OpEq, OpNe, OpLike, OpILike, OpIsNull, OpIsNotNull}
)

func checkOp(c Comparison, allowed []string) error {
	for _, a := range allowed {
		if c.Op == a {
			return nil
		}
	}
	return invalid("filter", "invalid comparator '%s' for %s '%s': use one of %s", c.Op, c.Entity, c.Key, strings.Join(allowed, ", "))
}

// CheckRunFilter validates a parsed run filter and canonicalizes attribute
// names in place.
func CheckRunFilter(f Filter) error {
	for i := range f {
		c := &f[i]
		switch c.Entity {
		case EntityMetric:
			if err := checkOp(*c, numericOps); err != nil {
				return err
			}
			if !c.IsNumber {
				return invalid("filter", "expected a numeric value for metric '%s', got '%s'", c.Key, c.Value)
			}
		case EntityParam, EntityTag:
			if err := checkOp(*c, keyedOps); err != nil {
				return err
			}
			if c.IsNumber {
				return invalid("filter", "parameter and tag values are strings: quote '%s' in the comparison on %s '%s'", c.Value, c.Entity, c.Key)
			}
		case EntityAttribute:
			a, ok := runAttributes[c.Key]
			if !ok {
				return invalid("filter", "invalid attribute key '%s' specified. Valid keys are run_id, run_name, status, user_id, artifact_uri, start_time, end_time", c.Key)
			}
			c.Key = a
			if NumericRunAttribute(a) {
				if err := checkOp(*c, numericOps); err != nil {
					return err
				}
				if !c.IsNumber {
					return invalid("filter", "attribute %s is a number of milliseconds; compare it with a number", a)
				}
				continue
			}
			if err := checkOp(*c, stringOps); err != nil {
				return err
			}
			if c.IsNumber {
				return invalid("filter", "attribute %s is a string: quote the value '%s'", a, c.Value)
			}
		case EntityDataset:
			if c.Key != "name" && c.Key != "digest" && c.Key != "context" {
				return invalid("filter", "invalid dataset key '%s': use datasets.name, datasets.digest or datasets.context", c.Key)
			}
			if err := checkOp(*c, stringOps); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckRunOrderBy validates run order-by keys and canonicalizes attributes.
func CheckRunOrderBy(os []OrderBy) error {
	for i := range os {
		o := &os[i]
		switch o.Entity {
		case EntityMetric, EntityParam, EntityTag:
		case EntityAttribute:
			a, ok := runAttributes[o.Key]
			if !ok || a == "lifecycle_stage" {
				return invalid("order_by", "invalid order_by key '%s': use an attribute (start_time, end_time, run_name, status, run_id, user_id, artifact_uri) or metrics./params./tags.<key>", o.Key)
			}
			o.Key = a
		default:
			return invalid("order_by", "runs cannot be ordered by %s keys", o.Entity)
		}
	}
	return nil
}
