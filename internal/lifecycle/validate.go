package lifecycle

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

type problems []fault.FieldError

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, fault.Field(field, format, args...))
}

var (
	nameRE    = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	gpuTypeRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	metricRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:/-]*$`)
)

// Validate returns every problem with t at once; nil means t is valid.
// Fields are paths in the document, e.g. "spec.serving.canarySteps[1]".
func (t Template) Validate() []fault.FieldError {
	var ps problems
	if t.APIVersion != APIVersion {
		ps.add("apiVersion", "must be %q (got %q)", APIVersion, t.APIVersion)
	}
	if t.Kind != Kind {
		ps.add("kind", "must be %q (got %q)", Kind, t.Kind)
	}
	if m := t.Metadata; len(m.Name) < 2 || len(m.Name) > 63 || !nameRE.MatchString(m.Name) {
		ps.add("metadata.name", "must be 2-63 lower-case letters, digits or '-', starting with a letter (got %q)", m.Name)
	}
	switch v := t.Metadata.Version; {
	case strings.HasPrefix(v, "v"):
		ps.add("metadata.version", "write the version without the leading v, e.g. %q", v[1:])
	case strings.Contains(v, "+"):
		ps.add("metadata.version", "must not carry build metadata (+...): two versions that differ only there could not be told apart (got %q)", v)
	default:
		if _, ok := parseVersion(v); !ok {
			ps.add("metadata.version", "must be a semantic version such as 1.2.0 (got %q)", v)
		}
	}
	if strings.TrimSpace(t.Metadata.Title) == "" {
		ps.add("metadata.title", "required: a short name shown in the portal")
	}
	t.Spec.validate(&ps)
	return ps
}

func (s Spec) validate(ps *problems) {
	if !slices.Contains(patterns, s.Pattern) {
		ps.add("spec.pattern", "must be one of training, batch-inference, realtime-serving (got %q)", s.Pattern)
	}
	s.Job.validate(ps, "spec.job")
	validateStages(ps, s.Stages)
	validateGates(ps, s.PromotionGates)
	switch {
	case s.Serving != nil:
		s.Serving.validate(ps, "spec.serving")
	case s.Pattern == PatternRealtimeServing:
		ps.add("spec.serving", "required for realtime-serving: replicas, autoscaling and canary steps")
	}
	switch {
	case s.Schedule != "":
		if err := ValidateCron(s.Schedule); err != nil {
			ps.add("spec.schedule", "%v", err)
		}
	case s.Pattern == PatternBatchInference:
		ps.add("spec.schedule", "required for batch-inference: a cron expression such as \"0 2 * * *\" (daily at 02:00 UTC)")
	}
	validateExpectations(ps, s.DataExpectations)
}

func (j Job) validate(ps *problems, path string) {
	if j.Image == "" || strings.ContainsAny(j.Image, " \t\r\n") || strings.HasPrefix(j.Image, "-") {
		ps.add(path+".image", "must be a container image such as ghcr.io/acme/train:1.4 (got %q)", j.Image)
	}
	if len(j.Command) == 0 {
		ps.add(path+".command", "required: the program and its arguments, e.g. [python, train.py]")
	}
	for i, c := range j.Command {
		if c == "" {
			ps.add(fmt.Sprintf("%s.command[%d]", path, i), "must not be empty")
		}
	}
	j.Resources.validate(ps, path+".resources")
	if j.Timeout.Duration <= 0 {
		ps.add(path+".timeout", "must be more than 0, e.g. \"6h\"; a job running longer is stopped (got %s)", j.Timeout)
	}
	if j.Retries < 0 || j.Retries > 10 {
		ps.add(path+".retries", "must be from 0 to 10: how often a failed job is started again (got %d)", j.Retries)
	}
}

func (r Resources) validate(ps *problems, path string) {
	if r.CPU == "" {
		ps.add(path+".cpu", "required: cores such as \"4\" or millicores such as \"500m\"")
	} else if m, err := r.CPU.MilliCPU(); err != nil {
		ps.add(path+".cpu", "%v", err)
	} else if m == 0 {
		ps.add(path+".cpu", "must be more than 0")
	}
	if r.Memory == "" {
		ps.add(path+".memory", "required: such as \"16Gi\" or \"512Mi\"")
	} else if b, err := r.Memory.Bytes(); err != nil {
		ps.add(path+".memory", "%v", err)
	} else if b < 1<<20 && strings.Trim(string(r.Memory), "0123456789") == "" {
		ps.add(path+".memory", "%q is only %d bytes; did you mean %q?", string(r.Memory), b, string(r.Memory)+"Gi")
	} else if b < 1<<20 {
		ps.add(path+".memory", "must be at least 1Mi (got %q)", string(r.Memory))
	}
	switch {
	case r.GPU < 0:
		ps.add(path+".gpu", "must be 0 or more (got %d)", r.GPU)
	case r.GPU > 0 && r.GPUType == "":
		ps.add(path+".gpuType", "required when gpu is more than 0: a type such as nvidia-a100-80gb, or %q", GPUTypeAny)
	}
	if r.GPUType != "" && r.GPUType != GPUTypeAny && (len(r.GPUType) > 63 || !gpuTypeRE.MatchString(r.GPUType)) {
		ps.add(path+".gpuType", "must be %q or a type such as nvidia-a100-80gb: lower-case letters, digits, '-' and '.' (got %q)", GPUTypeAny, r.GPUType)
	}
}

func validateStages(ps *problems, stages []Stage) {
	if len(stages) == 0 {
		ps.add("spec.stages", "required: at least one of %s", strings.Join(stageNames, ", "))
	}
	last, seen := -1, map[string]bool{}
	for i, st := range stages {
		path := fmt.Sprintf("spec.stages[%d]", i)
		switch pos := slices.Index(stageNames, st.Name); {
		case pos < 0:
			ps.add(path+".name", "must be one of %s (got %q)", strings.Join(stageNames, ", "), st.Name)
		case seen[st.Name]:
			ps.add(path+".name", "%q is listed twice", st.Name)
		case pos < last:
			ps.add(path+".name", "%q must come before %q: stages run in the order %s", st.Name, stageNames[last], strings.Join(stageNames, " → "))
		default:
			last = pos
		}
		seen[st.Name] = true
		if !strings.HasPrefix(st.Run, "mlportal ") || strings.TrimSpace(st.Run) == "mlportal" {
			ps.add(path+".run", "must be an mlportal CLI command such as \"mlportal train --wait\" (got %q)", st.Run)
		}
	}
}

func validateGates(ps *problems, gates []Gate) {
	seen := map[[2]string]bool{}
	for i, g := range gates {
		path := fmt.Sprintf("spec.promotionGates[%d]", i)
		if len(g.Metric) > 128 || !metricRE.MatchString(g.Metric) {
			ps.add(path+".metric", "must be a metric name such as accuracy or latency_p95_ms (got %q)", g.Metric)
		}
		if !slices.Contains(comparators, g.Comparator) {
			ps.add(path+".comparator", "must be one of %s (got %q)", strings.Join(comparators, ", "), g.Comparator)
		} else if key := [2]string{g.Metric, g.Comparator}; seen[key] {
			ps.add(path, "a gate on %s %s is already listed", g.Metric, g.Comparator)
		} else {
			seen[key] = true
		}
		switch {
		case (g.RelativeToProduction == nil) == (g.Value == nil):
			ps.add(path, "set exactly one of value (a fixed threshold) and relativeToProduction (a difference from the production model's metric)")
		case g.Value != nil && !finite(*g.Value):
			ps.add(path+".value", "must be a finite number")
		case g.RelativeToProduction != nil && !finite(*g.RelativeToProduction):
			ps.add(path+".relativeToProduction", "must be a finite number")
		}
	}
}

func (s Serving) validate(ps *problems, path string) {
	if s.Replicas < 1 {
		ps.add(path+".replicas", "must be at least 1: the replicas the model starts with (got %d)", s.Replicas)
	}
	if a := s.Autoscaling; a != nil {
		ap := path + ".autoscaling"
		if a.MinReplicas < 0 {
			ps.add(ap+".minReplicas", "must be 0 or more; 0 scales to zero when idle (got %d)", a.MinReplicas)
		}
		if a.MaxReplicas < 1 {
			ps.add(ap+".maxReplicas", "must be at least 1 (got %d)", a.MaxReplicas)
		} else if a.MinReplicas > a.MaxReplicas {
			ps.add(ap+".minReplicas", "must not be more than maxReplicas (%d > %d)", a.MinReplicas, a.MaxReplicas)
		} else if s.Replicas >= 1 && (s.Replicas < a.MinReplicas || s.Replicas > a.MaxReplicas) {
			ps.add(path+".replicas", "must be between autoscaling.minReplicas and maxReplicas (%d is not in %d-%d)", s.Replicas, a.MinReplicas, a.MaxReplicas)
		}
		switch t := a.Target; {
		case !slices.Contains(targetMetrics, t.Metric):
			ps.add(ap+".target.metric", "must be one of %s (got %q)", strings.Join(targetMetrics, ", "), t.Metric)
		case !finite(t.Value) || t.Value <= 0:
			ps.add(ap+".target.value", "must be more than 0 (got %v)", t.Value)
		case t.Metric == "cpu" && t.Value > 100:
			ps.add(ap+".target.value", "is a percentage of the requested cpu, at most 100 (got %v)", t.Value)
		}
	}
	for i, step := range s.CanarySteps {
		sp := fmt.Sprintf("%s.canarySteps[%d]", path, i)
		switch {
		case step < 1 || step > 100:
			ps.add(sp, "must be a percentage of traffic from 1 to 100 (got %d)", step)
		case i > 0 && step <= s.CanarySteps[i-1]:
			ps.add(sp, "must be more than the step before (%d, then %d): each step sends more traffic to the new version", s.CanarySteps[i-1], step)
		case i == len(s.CanarySteps)-1 && step != 100:
			ps.add(sp, "the last step must be 100, so that the new version ends up with all traffic (got %d)", step)
		}
	}
	if len(s.CanarySteps) > 0 && s.CanaryStepDuration.Duration <= 0 {
		ps.add(path+".canaryStepDuration", "must be more than 0, e.g. \"10m\": how long each canary step runs before the next (got %s)", s.CanaryStepDuration)
	}
}

func validateExpectations(ps *problems, es []ColumnExpectation) {
	seen := map[string]bool{}
	for i, e := range es {
		path := fmt.Sprintf("spec.dataExpectations[%d]", i)
		switch {
		case strings.TrimSpace(e.Column) == "":
			ps.add(path+".column", "required: the column's name")
		case seen[e.Column]:
			ps.add(path+".column", "%q already has expectations; merge them into one entry", e.Column)
		}
		seen[e.Column] = true
		if e.MaxNullFraction == nil && e.Min == nil && e.Max == nil {
			ps.add(path, "expects nothing: set maxNullFraction, min or max")
		}
		if f := e.MaxNullFraction; f != nil && (!finite(*f) || *f < 0 || *f > 1) {
			ps.add(path+".maxNullFraction", "must be a fraction from 0 (no nulls) to 1 (any) (got %v)", *f)
		}
		for _, b := range []struct {
			name string
			v    *float64
		}{{"min", e.Min}, {"max", e.Max}} {
			if b.v != nil && !finite(*b.v) {
				ps.add(path+"."+b.name, "must be a finite number")
			}
		}
		if e.Min != nil && e.Max != nil && *e.Min > *e.Max {
			ps.add(path+".min", "must not be more than max (%v > %v)", *e.Min, *e.Max)
		}
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
