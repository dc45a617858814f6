package lifecycle

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const header = "apiVersion: mlportal.io/v1\nkind: LifecycleTemplate\n"

func TestDecode(t *testing.T) {
	data := header + `
metadata: {name: fraud, version: 1.2.0, title: Fraud, description: Scores payments.}
spec:
  pattern: batch-inference
  job:
    image: ghcr.io/acme/fraud:1.4
    command: &cmd [python, src/train.py]
    resources: {cpu: 4, memory: 16Gi, gpu: 0}
    timeout: 1h30m
    retries: 3
    preemptible: true
  stages:
    - {name: train, run: mlportal train --wait, required: true}
  promotionGates:
    - {metric: auc, comparator: ">=", value: 1}
    - {metric: accuracy, comparator: ">=", relativeToProduction: -0.5}
  serving: ~
  schedule: "0 2 * * *"
  dataExpectations:
    - {column: amount, min: 0, max: 1e6, maxNullFraction: 0}
`
	got, err := Decode("fraud.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := Template{
		APIVersion: APIVersion, Kind: Kind, File: "fraud.yaml",
		Metadata: Metadata{Name: "fraud", Version: "1.2.0", Title: "Fraud", Description: "Scores payments."},
		Spec: Spec{
			Pattern: PatternBatchInference,
			Job: Job{Image: "ghcr.io/acme/fraud:1.4", Command: []string{"python", "src/train.py"},
				Resources: Resources{CPU: "4", Memory: "16Gi"}, Timeout: Duration{90 * time.Minute}, Retries: 3, Preemptible: true},
			Stages: []Stage{{Name: "train", Run: "mlportal train --wait", Required: true}},
			PromotionGates: []Gate{
				{Metric: "auc", Comparator: ">=", Value: ptr(1.0)},
				{Metric: "accuracy", Comparator: ">=", RelativeToProduction: ptr(-0.5)},
			},
			Schedule:         "0 2 * * *",
			DataExpectations: []ColumnExpectation{{Column: "amount", Min: ptr(0.0), Max: ptr(1e6), MaxNullFraction: ptr(0.0)}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
	if fes := got.Validate(); fes != nil {
		t.Errorf("decoded template does not validate: %v", fes)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"unknown key names file and path", header + "metadata: {name: x}\nspec:\n  job:\n    resoures: {cpu: 4}\n",
			"t.yaml: spec.job.resoures: unknown key (known keys: image, command, resources, timeout, retries, preemptible)"},
		{"unknown top-level key", header + "status: {}\n",
			"t.yaml: status: unknown key (known keys: apiVersion, kind, metadata, spec)"},
		{"unknown key in a list element", header + "spec: {stages: [{name: train, command: x}]}\n",
			"t.yaml: spec.stages[0].command: unknown key (known keys: name, run, required)"},
		{"wrong types", header + "spec:\n  job: {command: python, retries: \"3\", preemptible: yes, timeout: 30}\n  serving: {canarySteps: [10, 50.5]}\n",
			"t.yaml: spec.job.command: expected a list, got text \"python\"\n" +
				"t.yaml: spec.job.retries: expected a whole number, got text \"3\"\n" +
				"t.yaml: spec.job.preemptible: expected true or false, got text \"yes\"\n" +
				"t.yaml: spec.job.timeout: expected a duration such as \"30m\" or \"24h\", got whole number 30\n" +
				"t.yaml: spec.serving.canarySteps[1]: expected a whole number, got number 50.5"},
		{"bad duration", header + "spec: {job: {timeout: 2 days}}\n",
			`t.yaml: spec.job.timeout: expected a duration such as "30m" or "24h", got "2 days"`},
		{"text where a mapping belongs", header + "spec: {job: {resources: [4, 16Gi]}, promotionGates: [{metric: [a]}]}\n",
			"t.yaml: spec.job.resources: expected a mapping, got a list\nt.yaml: spec.promotionGates[0].metric: expected text, got a list"},
		{"duplicate key", header + "metadata: {name: a, name: b}\n", "t.yaml: metadata.name: duplicate key"},
		{"wrong apiVersion", "apiVersion: mlportal.io/v2\nkind: LifecycleTemplate\nspec: {whatever: 1}\n",
			`t.yaml: apiVersion: must be "mlportal.io/v1" (got text "mlportal.io/v2")`},
		{"missing kind", "apiVersion: mlportal.io/v1\n", `t.yaml: kind: must be "LifecycleTemplate" (got nothing)`},
		{"not a mapping", "- a\n", "t.yaml: expected a mapping with apiVersion, kind, metadata and spec, got a list"},
		{"empty", "# nothing\n", "t.yaml: empty file; expected a LifecycleTemplate document"},
		{"two documents", header + "---\n" + header, "t.yaml: holds more than one YAML document; put one template in each file"},
		{"bad YAML", header + "spec: {\n", "t.yaml: not valid YAML: line 3: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("t.yaml", []byte(tt.data))
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("Decode error (-want +got):\n%s", diff)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "t.yaml" {
				t.Errorf("Decode error %v is not a *FileError for t.yaml", err)
			}
		})
	}
}

// TestDecodeAliasBomb checks that aliases cannot make a small document
// expensive to decode.
func TestDecodeAliasBomb(t *testing.T) {
	data := header + "spec:\n  stages: [&s {name: train, run: mlportal train, required: true}" + strings.Repeat(", *s", 60_000) + "]\n"
	if len(data) > maxTemplateBytes {
		t.Fatalf("test document is %d bytes, over the %d limit", len(data), maxTemplateBytes)
	}
	_, err := Decode("t.yaml", []byte(data))
	if err == nil || !strings.Contains(err.Error(), "the document is too large or uses too many aliases") {
		t.Fatalf("Decode = %v, want the work limit to stop it", err)
	}
}
