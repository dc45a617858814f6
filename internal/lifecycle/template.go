package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Document identity every template file declares.
const (
	APIVersion = "mlportal.io/v1"
	Kind       = "LifecycleTemplate"
)

// Pattern is the kind of ML project a template is for. It decides which
// sections are required: serving for realtime-serving, schedule for
// batch-inference.
type Pattern string

// The patterns mlportal knows.
const (
	PatternTraining        Pattern = "training"
	PatternBatchInference  Pattern = "batch-inference"
	PatternRealtimeServing Pattern = "realtime-serving"
)

// patterns lists the patterns in the order the docs present them.
var patterns = []Pattern{PatternTraining, PatternBatchInference, PatternRealtimeServing}

// Template is one version of a lifecycle template, as written in its file.
type Template struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Spec     `yaml:"spec"`

	// File is where the template was read from; Shipped says it is one of
	// the templates embedded in mlportal. Neither is part of the document.
	File    string `yaml:"-"`
	Shipped bool   `yaml:"-"`
}

// Metadata names and describes a template. Name and Version identify it in
// the catalog.
type Metadata struct {
	Name        string `yaml:"name"`        // e.g. "training"; lower-case letters, digits and '-'
	Version     string `yaml:"version"`     // semantic version, e.g. "1.2.0"
	Title       string `yaml:"title"`       // shown in the portal
	Description string `yaml:"description"` // one paragraph for data scientists
}

// Spec is what a template prescribes.
type Spec struct {
	Pattern          Pattern             `yaml:"pattern"`
	Job              Job                 `yaml:"job"`
	Stages           []Stage             `yaml:"stages"`
	PromotionGates   []Gate              `yaml:"promotionGates"`
	Serving          *Serving            `yaml:"serving"`  // required for realtime-serving
	Schedule         string              `yaml:"schedule"` // cron, 5 fields, UTC; required for batch-inference
	DataExpectations []ColumnExpectation `yaml:"dataExpectations"`
}

// Job holds the defaults of every job the pipeline starts.
type Job struct {
	Image       string    `yaml:"image"`
	Command     []string  `yaml:"command"`
	Resources   Resources `yaml:"resources"`
	Timeout     Duration  `yaml:"timeout"`
	Retries     int       `yaml:"retries"`
	Preemptible bool      `yaml:"preemptible"`
}

// Resources is what one job requests.
type Resources struct {
	CPU     Quantity `yaml:"cpu"`     // cores: "4", "500m"
	Memory  Quantity `yaml:"memory"`  // bytes: "16Gi", "512Mi"
	GPU     int      `yaml:"gpu"`     // whole GPUs
	GPUType string   `yaml:"gpuType"` // e.g. "nvidia-a100-80gb", or "any"; ignored when GPU is 0
}

// GPUTypeAny accepts whichever GPU type the scheduler finds free.
const GPUTypeAny = "any"

// Stage is one step of the pipeline. Its name is one of validate-data,
// train, evaluate, register and deploy-staging; a template lists some or all
// of them, each once, in that order.
type Stage struct {
	Name     string `yaml:"name"`
	Run      string `yaml:"run"` // the mlportal CLI command, e.g. "mlportal train --wait"
	Required bool   `yaml:"required"`
}

// stageNames are the stage names a template may use, in pipeline order.
var stageNames = []string{"validate-data", "train", "evaluate", "register", "deploy-staging"}

// Gate is a promotion gate: the candidate's Metric compared with
// Comparator against a threshold. The threshold is Value, or, when
// RelativeToProduction is set, the production model's metric plus
// RelativeToProduction (so -0.01 with ">=" allows a drop of 0.01). Exactly
// one of the two is set.
type Gate struct {
	Metric               string   `yaml:"metric"`
	Comparator           string   `yaml:"comparator"` // ">=", ">", "<=" or "<"
	RelativeToProduction *float64 `yaml:"relativeToProduction"`
	Value                *float64 `yaml:"value"`
}

// comparators are the comparisons a gate may use.
var comparators = []string{">=", ">", "<=", "<"}

// Serving holds the defaults of a real-time deployment.
type Serving struct {
	Replicas           int          `yaml:"replicas"`    // replicas at rollout
	Autoscaling        *Autoscaling `yaml:"autoscaling"` // nil: a fixed number of replicas
	CanarySteps        []int        `yaml:"canarySteps"` // percent of traffic, increasing, ending at 100; empty: no canary
	CanaryStepDuration Duration     `yaml:"canaryStepDuration"`
}

// Autoscaling bounds the replica count and says what to scale on.
type Autoscaling struct {
	MinReplicas int    `yaml:"minReplicas"` // 0 scales to zero when idle
	MaxReplicas int    `yaml:"maxReplicas"`
	Target      Target `yaml:"target"`
}

// Target is the per-replica load the autoscaler aims for.
type Target struct {
	Metric string  `yaml:"metric"` // "cpu" (percent utilisation), "concurrency" (requests in flight) or "rps"
	Value  float64 `yaml:"value"`
}

// targetMetrics are what autoscaling may aim at.
var targetMetrics = []string{"cpu", "concurrency", "rps"}

// ColumnExpectation is what the data of one column must look like. Issue 4's
// data validation stage checks them; this package only validates their form.
type ColumnExpectation struct {
	Column          string   `yaml:"column"`
	MaxNullFraction *float64 `yaml:"maxNullFraction"` // 0 = no nulls allowed, 1 = any
	Min             *float64 `yaml:"min"`
	Max             *float64 `yaml:"max"`
}

// Duration is a time.Duration written as a Go duration string ("30m", "24h").
type Duration struct{ time.Duration }

// String formats d without trailing zero units: "24h", "1h30m", "45s".
func (d Duration) String() string {
	s := d.Duration.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// MarshalText writes d as String does, so JSON and YAML show "24h".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("expected a duration such as \"30m\" or \"24h\", got %q", b)
	}
	d.Duration = v
	return nil
}

// Clone returns a deep copy of t.
func (t Template) Clone() Template {
	t.Spec = t.Spec.Clone()
	return t
}

// Clone returns a deep copy of s.
func (s Spec) Clone() Spec {
	s.Job.Command = slices.Clone(s.Job.Command)
	s.Stages = slices.Clone(s.Stages)
	s.PromotionGates = slices.Clone(s.PromotionGates)
	for i, g := range s.PromotionGates {
		s.PromotionGates[i].RelativeToProduction = clonePtr(g.RelativeToProduction)
		s.PromotionGates[i].Value = clonePtr(g.Value)
	}
	if s.Serving != nil {
		sv := *s.Serving
		sv.Autoscaling = clonePtr(sv.Autoscaling)
		sv.CanarySteps = slices.Clone(sv.CanarySteps)
		s.Serving = &sv
	}
	s.DataExpectations = slices.Clone(s.DataExpectations)
	for i, e := range s.DataExpectations {
		s.DataExpectations[i].MaxNullFraction = clonePtr(e.MaxNullFraction)
		s.DataExpectations[i].Min = clonePtr(e.Min)
		s.DataExpectations[i].Max = clonePtr(e.Max)
	}
	return s
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
