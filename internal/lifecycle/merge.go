package lifecycle

import (
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

// Overrides is what one project changes of its template. A nil field keeps
// the template's value. Its shape mirrors the template's spec, so
// "job.resources.cpu" here overrides "spec.job.resources.cpu" there; the
// JSON form is what the project binding stores next to the template's name
// and version.
type Overrides struct {
	Job      JobOverrides     `json:"job,omitzero"`
	Serving  ServingOverrides `json:"serving,omitzero"`
	Schedule *string          `json:"schedule,omitempty"`
}

// JobOverrides overrides the job defaults.
type JobOverrides struct {
	Image       *string           `json:"image,omitempty"`
	Resources   ResourceOverrides `json:"resources,omitzero"`
	Timeout     *Duration         `json:"timeout,omitempty"`
	Retries     *int              `json:"retries,omitempty"`
	Preemptible *bool             `json:"preemptible,omitempty"`
}

// ResourceOverrides overrides what each job requests.
type ResourceOverrides struct {
	CPU     *Quantity `json:"cpu,omitempty"`
	Memory  *Quantity `json:"memory,omitempty"`
	GPU     *int      `json:"gpu,omitempty"`
	GPUType *string   `json:"gpuType,omitempty"`
}

// ServingOverrides overrides the serving defaults.
type ServingOverrides struct {
	Replicas *int `json:"replicas,omitempty"`
}

// Resolved is a template with a project's overrides applied: the values a
// project's jobs and deployments actually use.
type Resolved struct {
	Name    string // template name
	Version string // template version
	Spec    Spec
}

// Merge applies overrides to tpl, a valid template (one from the Catalog),
// and validates the result as a template is validated. Problems the
// overrides cause are returned with paths in Overrides ("job.resources.cpu",
// "serving.replicas"); should tpl itself be invalid, its problems keep their
// "spec." paths. With any problem, the Resolved value is empty.
func Merge(tpl Template, o Overrides) (Resolved, []fault.FieldError) {
	s := tpl.Spec.Clone()
	var ps problems
	set(&s.Job.Image, o.Job.Image)
	set(&s.Job.Resources.CPU, o.Job.Resources.CPU)
	set(&s.Job.Resources.Memory, o.Job.Resources.Memory)
	set(&s.Job.Resources.GPU, o.Job.Resources.GPU)
	set(&s.Job.Resources.GPUType, o.Job.Resources.GPUType)
	set(&s.Job.Timeout, o.Job.Timeout)
	set(&s.Job.Retries, o.Job.Retries)
	set(&s.Job.Preemptible, o.Job.Preemptible)
	set(&s.Schedule, o.Schedule)
	if o.Serving.Replicas != nil {
		if s.Serving == nil {
			ps.add("serving.replicas", "template %s %s has no serving section: it is for %s, not realtime serving", tpl.Metadata.Name, tpl.Metadata.Version, tpl.Spec.Pattern)
		} else {
			s.Serving.Replicas = *o.Serving.Replicas
		}
	}
	var all problems
	s.validate(&all)
	for _, fe := range all {
		// A problem the overrides cannot have caused means tpl itself is
		// invalid; it keeps its "spec." path, so it cannot be mistaken for one.
		if field, ok := strings.CutPrefix(fe.Field, "spec."); ok && overridden(o, field) {
			fe.Field = field
		}
		ps = append(ps, fe)
	}
	if len(ps) > 0 {
		return Resolved{}, ps
	}
	return Resolved{Name: tpl.Metadata.Name, Version: tpl.Metadata.Version, Spec: s}, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// overridden reports whether a problem at field (a spec path without
// "spec.") can be caused by o. Besides the overridden fields themselves,
// that is gpuType once gpu is raised, and serving.replicas once it leaves
// the autoscaling range. Problems anywhere else belong to the template.
func overridden(o Overrides, field string) bool {
	r := o.Job.Resources
	switch field {
	case "job.image":
		return o.Job.Image != nil
	case "job.resources.cpu":
		return r.CPU != nil
	case "job.resources.memory":
		return r.Memory != nil
	case "job.resources.gpu":
		return r.GPU != nil
	case "job.resources.gpuType":
		return r.GPU != nil || r.GPUType != nil
	case "job.timeout":
		return o.Job.Timeout != nil
	case "job.retries":
		return o.Job.Retries != nil
	case "serving.replicas":
		return o.Serving.Replicas != nil
	case "schedule":
		return o.Schedule != nil
	}
	return false
}
