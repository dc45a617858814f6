package lifecycle

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mlportal/mlportal/internal/fault"
)

func ptr[T any](v T) *T { return &v }

func fe(field, reason string) fault.FieldError { return fault.FieldError{Field: field, Reason: reason} }

// serving returns a valid realtime-serving template with every section set.
func serving() Template {
	return Template{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata:   Metadata{Name: "fraud-serving", Version: "2.1.0-rc.1", Title: "Fraud scoring"},
		Spec: Spec{
			Pattern: PatternRealtimeServing,
			Job: Job{
				Image:     "ghcr.io/acme/fraud:1.4",
				Command:   []string{"python", "src/train.py"},
				Resources: Resources{CPU: "500m", Memory: "16Gi", GPU: 2, GPUType: "nvidia-a100-80gb"},
				Timeout:   Duration{6 * time.Hour},
				Retries:   2,
			},
			Stages: []Stage{
				{Name: "validate-data", Run: "mlportal data validate", Required: true},
				{Name: "train", Run: "mlportal train --wait", Required: true},
				{Name: "deploy-staging", Run: "mlportal deploy --env staging"},
			},
			PromotionGates: []Gate{
				{Metric: "accuracy", Comparator: ">=", RelativeToProduction: ptr(-0.01)},
				{Metric: "latency_p95_ms", Comparator: "<=", Value: ptr(50.0)},
			},
			Serving: &Serving{
				Replicas:           2,
				Autoscaling:        &Autoscaling{MinReplicas: 1, MaxReplicas: 4, Target: Target{Metric: "cpu", Value: 70}},
				CanarySteps:        []int{10, 50, 100},
				CanaryStepDuration: Duration{10 * time.Minute},
			},
			Schedule: "*/15 9-17 * JAN-jun mon-fri",
			DataExpectations: []ColumnExpectation{
				{Column: "amount", MaxNullFraction: ptr(0.0), Min: ptr(0.0)},
				{Column: "country", MaxNullFraction: ptr(0.05)},
			},
		},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Template)
		want []fault.FieldError
	}{
		{name: "a full template is valid"},
		{
			name: "identity",
			edit: func(t *Template) {
				t.APIVersion, t.Kind = "mlportal.io/v2", "Template"
				t.Metadata = Metadata{Name: "Fraud", Version: "v1.0.0", Title: " "}
			},
			want: []fault.FieldError{
				fe("apiVersion", `must be "mlportal.io/v1" (got "mlportal.io/v2")`),
				fe("kind", `must be "LifecycleTemplate" (got "Template")`),
				fe("metadata.name", `must be 2-63 lower-case letters, digits or '-', starting with a letter (got "Fraud")`),
				fe("metadata.version", `write the version without the leading v, e.g. "1.0.0"`),
				fe("metadata.title", "required: a short name shown in the portal"),
			},
		},
		{
			name: "versions",
			edit: func(t *Template) { t.Metadata.Version = "1.0" },
			want: []fault.FieldError{fe("metadata.version", `must be a semantic version such as 1.2.0 (got "1.0")`)},
		},
		{
			name: "build metadata",
			edit: func(t *Template) { t.Metadata.Version = "1.0.0+git.abc" },
			want: []fault.FieldError{fe("metadata.version", `must not carry build metadata (+...): two versions that differ only there could not be told apart (got "1.0.0+git.abc")`)},
		},
		{
			name: "job",
			edit: func(t *Template) {
				t.Spec.Pattern = "streaming"
				t.Spec.Job = Job{Image: "my image", Command: []string{"python", ""}, Timeout: Duration{-time.Second}, Retries: 11,
					Resources: Resources{CPU: "4 cores", Memory: "16GB", GPU: -1, GPUType: "A100"}}
			},
			want: []fault.FieldError{
				fe("spec.pattern", `must be one of training, batch-inference, realtime-serving (got "streaming")`),
				fe("spec.job.image", `must be a container image such as ghcr.io/acme/train:1.4 (got "my image")`),
				fe("spec.job.command[1]", "must not be empty"),
				fe("spec.job.resources.cpu", `"4 cores" is not a quantity; write cores as "4" or "0.5", or millicores as "500m"`),
				fe("spec.job.resources.memory", `"16GB" is not a quantity; write "16Gi" (power of 1024) or "16G" (power of 1000), without the B`),
				fe("spec.job.resources.gpu", "must be 0 or more (got -1)"),
				fe("spec.job.resources.gpuType", `must be "any" or a type such as nvidia-a100-80gb: lower-case letters, digits, '-' and '.' (got "A100")`),
				fe("spec.job.timeout", `must be more than 0, e.g. "6h"; a job running longer is stopped (got -1s)`),
				fe("spec.job.retries", "must be from 0 to 10: how often a failed job is started again (got 11)"),
			},
		},
		{
			name: "job sections left out",
			edit: func(t *Template) { t.Spec.Job = Job{Resources: Resources{GPU: 1}} },
			want: []fault.FieldError{
				fe("spec.job.image", `must be a container image such as ghcr.io/acme/train:1.4 (got "")`),
				fe("spec.job.command", "required: the program and its arguments, e.g. [python, train.py]"),
				fe("spec.job.resources.cpu", `required: cores such as "4" or millicores such as "500m"`),
				fe("spec.job.resources.memory", `required: such as "16Gi" or "512Mi"`),
				fe("spec.job.resources.gpuType", `required when gpu is more than 0: a type such as nvidia-a100-80gb, or "any"`),
				fe("spec.job.timeout", `must be more than 0, e.g. "6h"; a job running longer is stopped (got 0s)`),
			},
		},
		{
			name: "quantities a data scientist gets wrong",
			edit: func(t *Template) { t.Spec.Job.Resources = Resources{CPU: "0", Memory: "16"} },
			want: []fault.FieldError{
				fe("spec.job.resources.cpu", "must be more than 0"),
				fe("spec.job.resources.memory", `"16" is only 16 bytes; did you mean "16Gi"?`),
			},
		},
		{
			name: "memory in millibytes and cpu with a byte suffix",
			edit: func(t *Template) { t.Spec.Job.Resources = Resources{CPU: "2Gi", Memory: "512m"} },
			want: []fault.FieldError{
				fe("spec.job.resources.cpu", `"2Gi": cpu is counted in cores, write "4" or "500m" without a byte suffix`),
				fe("spec.job.resources.memory", `"512m" means thousandths of a byte; did you mean "512Mi"?`),
			},
		},
		{
			name: "stages",
			edit: func(t *Template) {
				t.Spec.Stages = []Stage{
					{Name: "train", Run: "mlportal train"},
					{Name: "validate-data", Run: "mlportal data validate"},
					{Name: "deploy", Run: "kubectl apply -f ."},
					{Name: "train", Run: "mlportal"},
				}
			},
			want: []fault.FieldError{
				fe("spec.stages[1].name", `"validate-data" must come before "train": stages run in the order validate-data → train → evaluate → register → deploy-staging`),
				fe("spec.stages[2].name", `must be one of validate-data, train, evaluate, register, deploy-staging (got "deploy")`),
				fe("spec.stages[2].run", `must be an mlportal CLI command such as "mlportal train --wait" (got "kubectl apply -f .")`),
				fe("spec.stages[3].name", `"train" is listed twice`),
				fe("spec.stages[3].run", `must be an mlportal CLI command such as "mlportal train --wait" (got "mlportal")`),
			},
		},
		{
			name: "no stages",
			edit: func(t *Template) { t.Spec.Stages = nil },
			want: []fault.FieldError{fe("spec.stages", "required: at least one of validate-data, train, evaluate, register, deploy-staging")},
		},
		{
			name: "promotion gates",
			edit: func(t *Template) {
				t.Spec.PromotionGates = []Gate{
					{Metric: "accuracy", Comparator: "=>", Value: ptr(0.9)},
					{Metric: "f1 score", Comparator: ">=", Value: ptr(0.9), RelativeToProduction: ptr(0.0)},
					{Metric: "auc", Comparator: ">"},
					{Metric: "latency_p95_ms", Comparator: "<=", Value: ptr(math.Inf(1))},
					{Metric: "latency_p95_ms", Comparator: "<=", RelativeToProduction: ptr(5.0)},
				}
			},
			want: []fault.FieldError{
				fe("spec.promotionGates[0].comparator", `must be one of >=, >, <=, < (got "=>")`),
				fe("spec.promotionGates[1].metric", `must be a metric name such as accuracy or latency_p95_ms (got "f1 score")`),
				fe("spec.promotionGates[1]", "set exactly one of value (a fixed threshold) and relativeToProduction (a difference from the production model's metric)"),
				fe("spec.promotionGates[2]", "set exactly one of value (a fixed threshold) and relativeToProduction (a difference from the production model's metric)"),
				fe("spec.promotionGates[3].value", "must be a finite number"),
				fe("spec.promotionGates[4]", "a gate on latency_p95_ms <= is already listed"),
			},
		},
		{
			name: "canary steps must increase and end at 100",
			edit: func(t *Template) {
				t.Spec.Serving.CanarySteps = []int{10, 5, 0, 50}
				t.Spec.Serving.CanaryStepDuration = Duration{}
			},
			want: []fault.FieldError{
				fe("spec.serving.canarySteps[1]", "must be more than the step before (10, then 5): each step sends more traffic to the new version"),
				fe("spec.serving.canarySteps[2]", "must be a percentage of traffic from 1 to 100 (got 0)"),
				fe("spec.serving.canarySteps[3]", "the last step must be 100, so that the new version ends up with all traffic (got 50)"),
				fe("spec.serving.canaryStepDuration", `must be more than 0, e.g. "10m": how long each canary step runs before the next (got 0s)`),
			},
		},
		{
			name: "no canary at all is fine",
			edit: func(t *Template) { t.Spec.Serving.CanarySteps, t.Spec.Serving.CanaryStepDuration = nil, Duration{} },
		},
		{
			name: "replicas",
			edit: func(t *Template) {
				t.Spec.Serving.Replicas = 0
				t.Spec.Serving.Autoscaling = &Autoscaling{MinReplicas: 5, MaxReplicas: 3, Target: Target{Metric: "cpu", Value: 170}}
			},
			want: []fault.FieldError{
				fe("spec.serving.replicas", "must be at least 1: the replicas the model starts with (got 0)"),
				fe("spec.serving.autoscaling.minReplicas", "must not be more than maxReplicas (5 > 3)"),
				fe("spec.serving.autoscaling.target.value", "is a percentage of the requested cpu, at most 100 (got 170)"),
			},
		},
		{
			name: "replicas outside the autoscaling range",
			edit: func(t *Template) {
				t.Spec.Serving.Replicas = 8
				t.Spec.Serving.Autoscaling.Target = Target{Metric: "gpu", Value: 1}
			},
			want: []fault.FieldError{
				fe("spec.serving.replicas", "must be between autoscaling.minReplicas and maxReplicas (8 is not in 1-4)"),
				fe("spec.serving.autoscaling.target.metric", `must be one of cpu, concurrency, rps (got "gpu")`),
			},
		},
		{
			name: "realtime serving needs serving",
			edit: func(t *Template) { t.Spec.Serving = nil },
			want: []fault.FieldError{fe("spec.serving", "required for realtime-serving: replicas, autoscaling and canary steps")},
		},
		{
			name: "batch inference needs a schedule",
			edit: func(t *Template) { t.Spec.Pattern, t.Spec.Serving, t.Spec.Schedule = PatternBatchInference, nil, "" },
			want: []fault.FieldError{fe("spec.schedule", `required for batch-inference: a cron expression such as "0 2 * * *" (daily at 02:00 UTC)`)},
		},
		{
			name: "schedule must be cron",
			edit: func(t *Template) { t.Spec.Schedule = "0 2 * *" },
			want: []fault.FieldError{fe("spec.schedule", `must have 5 fields, minute hour day-of-month month day-of-week, like "0 2 * * *" (daily at 02:00 UTC); "0 2 * *" has 4`)},
		},
		{
			name: "data expectations",
			edit: func(t *Template) {
				t.Spec.DataExpectations = []ColumnExpectation{
					{Column: "", Min: ptr(1.0)},
					{Column: "age", MaxNullFraction: ptr(1.5), Min: ptr(120.0), Max: ptr(0.0)},
					{Column: "age", Max: ptr(math.NaN())},
					{Column: "note"},
				}
			},
			want: []fault.FieldError{
				fe("spec.dataExpectations[0].column", "required: the column's name"),
				fe("spec.dataExpectations[1].maxNullFraction", "must be a fraction from 0 (no nulls) to 1 (any) (got 1.5)"),
				fe("spec.dataExpectations[1].min", "must not be more than max (120 > 0)"),
				fe("spec.dataExpectations[2].column", `"age" already has expectations; merge them into one entry`),
				fe("spec.dataExpectations[2].max", "must be a finite number"),
				fe("spec.dataExpectations[3]", "expects nothing: set maxNullFraction, min or max"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := serving()
			if tt.edit != nil {
				tt.edit(&tpl)
			}
			if diff := cmp.Diff(tt.want, tpl.Validate()); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateCron(t *testing.T) {
	tests := []struct{ expr, wantErr string }{
		{"0 2 * * *", ""},
		{"*/5 * * * *", ""},
		{"0,30 8-18/2 1,15 jan-DEC SUN-sat", ""},
		{"0 0 * * 7", ""},
		{"  0  2 * * 1-5 ", ""},
		{"", `must have 5 fields, minute hour day-of-month month day-of-week, like "0 2 * * *" (daily at 02:00 UTC); "" has 0`},
		{"0 2 * * * *", `must have 5 fields, minute hour day-of-month month day-of-week, like "0 2 * * *" (daily at 02:00 UTC); "0 2 * * * *" has 6`},
		{"@daily", `write the five fields "0 0 * * *" instead of @daily`},
		{"60 * * * *", `minute field "60": 60 is out of range 0-59`},
		{"0 24 * * *", `hour field "24": 24 is out of range 0-23`},
		{"0 0 0 * *", `day of month field "0": 0 is out of range 1-31`},
		{"0 0 * 13 *", `month field "13": 13 is out of range 1-12`},
		{"0 0 * * 8", `day of week field "8": 8 is out of range 0-7`},
		{"0 0 * * MON-SUNDAY", `day of week field "MON-SUNDAY": "SUNDAY" is not a number`},
		{"*/0 * * * *", `minute field "*/0": step "0" must be a number from 1 to 59`},
		{"0 17-9 * * *", `hour field "17-9": range "17-9" runs backwards`},
		{"0 1,,2 * * *", `hour field "1,,2": "" is not a number`},
		{"0 -1 * * *", `hour field "-1": "" is not a number`},
		{"0 +1 * * *", `hour field "+1": "+1" is not a number`},
	}
	for _, tt := range tests {
		err := ValidateCron(tt.expr)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.wantErr {
			t.Errorf("ValidateCron(%q) = %q, want %q", tt.expr, got, tt.wantErr)
		}
	}
}
