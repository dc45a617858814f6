package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
)

// LifecycleCatalog lists lifecycle templates.
type LifecycleCatalog interface {
	List() []lifecycle.Template
	Get(name, version string) (lifecycle.Template, error)
}

func canRead(p identity.Principal) error {
	if !p.CanGlobally(identity.VerbRead) {
		return fault.Denied("this credential cannot read; use a token with the read verb")
	}
	return nil
}

// ListLifecycleTemplates lists every version of every template, or of one.
func (s *Server) ListLifecycleTemplates(c echo.Context, params api.ListLifecycleTemplatesParams) error {
	if err := canRead(principal(c)); err != nil {
		return err
	}
	out := api.LifecycleTemplateList{Items: []api.LifecycleTemplate{}}
	for _, t := range s.Lifecycle.List() {
		if params.Name == nil || *params.Name == t.Metadata.Name {
			out.Items = append(out.Items, templateOut(t))
		}
	}
	return writeJSON(c, http.StatusOK, out)
}

// GetLifecycleTemplate returns one template version.
func (s *Server) GetLifecycleTemplate(c echo.Context, name api.Name, params api.GetLifecycleTemplateParams) error {
	if err := canRead(principal(c)); err != nil {
		return err
	}
	t, err := s.Lifecycle.Get(name, deref(params.Version))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, templateOut(t))
}

func templateOut(t lifecycle.Template) api.LifecycleTemplate {
	sp := t.Spec
	r := sp.Job.Resources
	out := api.LifecycleTemplate{Name: t.Metadata.Name, Version: t.Metadata.Version, Title: t.Metadata.Title,
		Description: strPtr(t.Metadata.Description), Pattern: api.LifecycleTemplatePattern(sp.Pattern), Shipped: t.Shipped,
		Job: api.LifecycleJob{Image: sp.Job.Image, Command: append([]string{}, sp.Job.Command...), Cpu: string(r.CPU),
			Memory: string(r.Memory), Gpu: r.GPU, GpuType: strPtr(r.GPUType), Timeout: durText(sp.Job.Timeout),
			Retries: sp.Job.Retries, Preemptible: sp.Job.Preemptible},
		Stages: []api.LifecycleStage{}, PromotionGates: []api.LifecycleGate{}, Schedule: strPtr(sp.Schedule)}
	for _, st := range sp.Stages {
		out.Stages = append(out.Stages, api.LifecycleStage{Name: st.Name, Run: st.Run, Required: st.Required})
	}
	for _, g := range sp.PromotionGates {
		out.PromotionGates = append(out.PromotionGates, api.LifecycleGate{Metric: g.Metric, Comparator: g.Comparator,
			RelativeToProduction: g.RelativeToProduction, Value: g.Value})
	}
	if sv := sp.Serving; sv != nil {
		o := &api.LifecycleServing{Replicas: sv.Replicas, CanarySteps: append([]int{}, sv.CanarySteps...)}
		if sv.CanaryStepDuration.Duration > 0 {
			d := durText(sv.CanaryStepDuration)
			o.CanaryStepDuration = &d
		}
		if a := sv.Autoscaling; a != nil {
			o.Autoscaling = &api.LifecycleAutoscaling{MinReplicas: a.MinReplicas, MaxReplicas: a.MaxReplicas,
				TargetMetric: a.Target.Metric, TargetValue: a.Target.Value}
		}
		out.Serving = o
	}
	return out
}

func durText(d lifecycle.Duration) string {
	b, _ := d.MarshalText()
	return string(b)
}
