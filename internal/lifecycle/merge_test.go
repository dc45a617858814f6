package lifecycle

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mlportal/mlportal/internal/fault"
)

func shippedTemplate(t *testing.T, name string) Template {
	t.Helper()
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := c.Get(name, "")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestMerge(t *testing.T) {
	tpl := shippedTemplate(t, "realtime-serving")
	o := Overrides{
		Job: JobOverrides{
			Image:       ptr("ghcr.io/acme/fraud:2.0"),
			Resources:   ResourceOverrides{CPU: ptr(Quantity("2")), GPU: ptr(0)},
			Timeout:     ptr(Duration{3 * time.Hour}),
			Retries:     ptr(0),
			Preemptible: ptr(true),
		},
		Serving: ServingOverrides{Replicas: ptr(5)},
	}
	got, fes := Merge(tpl, o)
	if fes != nil {
		t.Fatalf("Merge: %v", fes)
	}
	want := tpl.Spec.Clone()
	want.Job.Image = "ghcr.io/acme/fraud:2.0"
	want.Job.Resources.CPU, want.Job.Resources.GPU = "2", 0
	want.Job.Timeout, want.Job.Retries, want.Job.Preemptible = Duration{3 * time.Hour}, 0, true
	want.Serving.Replicas = 5
	if diff := cmp.Diff(Resolved{Name: "realtime-serving", Version: "1.0.0", Spec: want}, got); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if tpl.Spec.Serving.Replicas != 2 || tpl.Spec.Job.Image == "ghcr.io/acme/fraud:2.0" {
		t.Error("Merge changed the template it was given")
	}

	none, fes := Merge(tpl, Overrides{})
	if fes != nil || !cmp.Equal(none.Spec, tpl.Spec) {
		t.Errorf("Merge without overrides = %v, %v; want the template's spec", none.Spec, fes)
	}
}

func TestMergeRefusesInvalidOverrides(t *testing.T) {
	tests := []struct {
		name     string
		template string
		o        Overrides
		want     []fault.FieldError
	}{
		{
			name:     "job fields are validated as in a template",
			template: "training",
			o: Overrides{Job: JobOverrides{
				Image:     ptr(""),
				Resources: ResourceOverrides{CPU: ptr(Quantity("4 cores")), Memory: ptr(Quantity("64GB")), GPUType: ptr("H100")},
				Timeout:   ptr(Duration{}),
				Retries:   ptr(-1),
			}},
			want: []fault.FieldError{
				fe("job.image", `must be a container image such as ghcr.io/acme/train:1.4 (got "")`),
				fe("job.resources.cpu", `"4 cores" is not a quantity; write cores as "4" or "0.5", or millicores as "500m"`),
				fe("job.resources.memory", `"64GB" is not a quantity; write "64Gi" (power of 1024) or "64G" (power of 1000), without the B`),
				fe("job.resources.gpuType", `must be "any" or a type such as nvidia-a100-80gb: lower-case letters, digits, '-' and '.' (got "H100")`),
				fe("job.timeout", `must be more than 0, e.g. "6h"; a job running longer is stopped (got 0s)`),
				fe("job.retries", "must be from 0 to 10: how often a failed job is started again (got -1)"),
			},
		},
		{
			name:     "asking for GPUs on a CPU template needs a type",
			template: "batch-inference",
			o:        Overrides{Job: JobOverrides{Resources: ResourceOverrides{GPU: ptr(2)}}},
			want:     []fault.FieldError{fe("job.resources.gpuType", `required when gpu is more than 0: a type such as nvidia-a100-80gb, or "any"`)},
		},
		{
			name:     "replicas must stay within the autoscaling range",
			template: "realtime-serving",
			o:        Overrides{Serving: ServingOverrides{Replicas: ptr(50)}},
			want:     []fault.FieldError{fe("serving.replicas", "must be between autoscaling.minReplicas and maxReplicas (50 is not in 2-10)")},
		},
		{
			name:     "no serving replicas without serving",
			template: "training",
			o:        Overrides{Serving: ServingOverrides{Replicas: ptr(3)}},
			want:     []fault.FieldError{fe("serving.replicas", "template training 1.0.0 has no serving section: it is for training, not realtime serving")},
		},
		{
			name:     "schedule",
			template: "batch-inference",
			o:        Overrides{Schedule: ptr("0 25 * * *")},
			want:     []fault.FieldError{fe("schedule", `hour field "25": 25 is out of range 0-23`)},
		},
		{
			name:     "batch inference cannot drop its schedule",
			template: "batch-inference",
			o:        Overrides{Schedule: ptr("")},
			want:     []fault.FieldError{fe("schedule", `required for batch-inference: a cron expression such as "0 2 * * *" (daily at 02:00 UTC)`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fes := Merge(shippedTemplate(t, tt.template), tt.o)
			if diff := cmp.Diff(tt.want, fes); diff != "" {
				t.Errorf("Merge problems (-want +got):\n%s", diff)
			}
			if !cmp.Equal(got, Resolved{}) {
				t.Errorf("Merge returned %v with problems", got)
			}
		})
	}
}

func TestMergeKeepsTemplateProblemsApart(t *testing.T) {
	tpl := serving()
	tpl.Spec.Job.Timeout = Duration{}
	_, fes := Merge(tpl, Overrides{Job: JobOverrides{Retries: ptr(1)}})
	want := []fault.FieldError{fe("spec.job.timeout", `must be more than 0, e.g. "6h"; a job running longer is stopped (got 0s)`)}
	if diff := cmp.Diff(want, fes); diff != "" {
		t.Errorf("Merge of an invalid template (-want +got):\n%s", diff)
	}
}

// TestOverridesJSON pins the form the project binding stores.
func TestOverridesJSON(t *testing.T) {
	o := Overrides{
		Job:      JobOverrides{Timeout: ptr(Duration{90 * time.Minute}), Resources: ResourceOverrides{Memory: ptr(Quantity("8Gi"))}, Preemptible: ptr(false)},
		Schedule: ptr("0 3 * * *"),
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"job":{"resources":{"memory":"8Gi"},"timeout":"1h30m","preemptible":false},"schedule":"0 3 * * *"}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
	var back Overrides
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if b, _ := json.Marshal(Overrides{}); string(b) != "{}" {
		t.Errorf("empty overrides marshal to %s, want {}", b)
	}
}
