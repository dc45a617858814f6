// Package lifecycle holds mlportal's lifecycle templates: opinionated,
// versioned YAML documents (apiVersion mlportal.io/v1, kind
// LifecycleTemplate) that say how a project of one pattern — training,
// batch-inference or realtime-serving — runs by default: job image, command,
// resources, timeout, retries and preemptibility; the pipeline stages and the
// mlportal CLI command each runs; the promotion gates a candidate model must
// pass against production; serving and canary defaults; the batch schedule;
// and per-column data expectations.
//
// It decodes templates strictly ([Decode]: unknown keys and wrong types are
// errors naming the file and the key path), validates them ([Template.Validate]
// returns every problem as a [fault.FieldError] with a path such as
// "spec.serving.canarySteps[1]"), keeps them in a [Catalog] made of the
// templates shipped in templates/*.yaml plus those in configured directories,
// and resolves a project's choice of template, version and [Overrides] into
// a [Resolved] spec with [Merge].
//
// It deliberately does not run jobs, render workflows or pipelines, evaluate
// promotion gates or data expectations against real metrics and data, call
// the mlportal API or Kubernetes, or store which template a project uses: the
// project binding stores "template name + version + overrides" and calls
// [Merge] when it needs the effective values.
package lifecycle
