package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/project"
)

// Projects is the project service as the handlers use it.
type Projects interface {
	Create(ctx context.Context, p identity.Principal, req project.CreateRequest) (project.Project, bool, error)
	Get(ctx context.Context, p identity.Principal, id string) (project.Project, error)
	List(ctx context.Context, p identity.Principal, team string, page pagination.Page) ([]project.Project, string, error)
	Retry(ctx context.Context, p identity.Principal, id string) (project.Project, error)
	Delete(ctx context.Context, p identity.Principal, id string) (project.Project, error)
}

// Event streams poll the store at this interval, so they follow a saga run
// by any replica.
const (
	watchPoll      = 200 * time.Millisecond
	watchKeepAlive = 15 * time.Second
	// watchWriteGrace is how long each write of an event stream may take;
	// the deadline moves forward with every poll, past the server's
	// WriteTimeout.
	watchWriteGrace = 30 * time.Second
)

// ListProjects returns a page of projects.
func (s *Server) ListProjects(c echo.Context, params api.ListProjectsParams) error {
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	ps, next, err := s.Projects.List(c.Request().Context(), principal(c), deref(params.Team), page)
	if err != nil {
		return err
	}
	out := api.ProjectList{Items: make([]api.Project, len(ps)), NextPageToken: strPtr(next)}
	for i, p := range ps {
		out.Items[i] = projectOut(p)
	}
	return writeJSON(c, http.StatusOK, out)
}

// CreateProject creates a project (201) or returns the identical one made
// before (200).
func (s *Server) CreateProject(c echo.Context, _ api.CreateProjectParams) error {
	var in api.ProjectCreate
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	setAuditTarget(c, "projects/"+in.Team+"/"+in.Name)
	o, err := overridesIn(in.Overrides)
	if err != nil {
		return err
	}
	p, created, err := s.Projects.Create(c.Request().Context(), principal(c), project.CreateRequest{Team: in.Team, Name: in.Name,
		Description: deref(in.Description), Template: in.Template, TemplateVersion: deref(in.TemplateVersion), Overrides: o,
		Quota: quotaIn(in.Quota), SCM: string(deref(in.Scm))})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/projects/"+p.ID)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(c, status, projectOut(p))
}

// GetProject returns one project.
func (s *Server) GetProject(c echo.Context, id api.ProjectId) error {
	p, err := s.Projects.Get(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, projectOut(p))
}

// RetryProject resumes a failed project's saga.
func (s *Server) RetryProject(c echo.Context, id api.ProjectId) error {
	p, err := s.Projects.Retry(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusAccepted, projectOut(p))
}

// DeleteProject starts undoing a project's saga.
func (s *Server) DeleteProject(c echo.Context, id api.ProjectId) error {
	p, err := s.Projects.Delete(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	setAuditTarget(c, "projects/"+p.Team+"/"+p.Name)
	return writeJSON(c, http.StatusAccepted, projectOut(p))
}

// WatchProject streams the saga's step transitions as server-sent events
// until the project is terminal or the client goes away.
func (s *Server) WatchProject(c echo.Context, id api.ProjectId) error {
	ctx := c.Request().Context()
	p, err := s.Projects.Get(ctx, principal(c), id)
	if err != nil {
		return err
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sent := map[string]project.Step{}
	tick := time.NewTicker(watchPoll)
	defer tick.Stop()
	quiet := 0
	for {
		// An error means the writer cannot move the deadline (an HTTP/1
		// test recorder); the stream then lives within the WriteTimeout.
		_ = rc.SetWriteDeadline(time.Now().Add(watchWriteGrace))
		wrote := false
		for _, st := range p.Steps {
			if prev, ok := sent[st.Name]; ok && prev == st {
				continue
			}
			sent[st.Name] = st
			if err := writeEvent(w, "step", stepOut(st)); err != nil {
				return nil // the client went away
			}
			wrote = true
		}
		if p.Status.Terminal() {
			_ = writeEvent(w, "done", projectOut(p))
			_ = rc.Flush()
			return nil
		}
		if quiet++; !wrote && quiet*int(watchPoll) >= int(watchKeepAlive) {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			wrote = true
		}
		if wrote {
			quiet = 0
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		last := p
		if p, err = s.Projects.Get(ctx, principal(c), id); err != nil {
			if last.Status == project.StatusDeleting && errors.Is(err, fault.ErrNotFound) {
				last.Status = project.StatusDeleted
				_ = writeEvent(w, "deleted", projectOut(last))
				_ = rc.Flush()
				return nil
			}
			if ctx.Err() == nil {
				_, body := toResponse(err, requestID(c), s.log)
				_ = writeEvent(w, "error", body)
			}
			return nil
		}
	}
}

func writeEvent(w http.ResponseWriter, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
	return err
}

// overridesIn converts the transport overrides to the domain's; both have
// the same JSON shape.
func overridesIn(in *api.ProjectOverrides) (lifecycle.Overrides, error) {
	var o lifecycle.Overrides
	if in == nil {
		return o, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return o, fmt.Errorf("encode overrides: %w", err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fault.Invalid("the overrides are not valid", fault.Field("overrides", "%v", err))
	}
	return o, nil
}

func overridesOut(o lifecycle.Overrides) api.ProjectOverrides {
	var out api.ProjectOverrides
	b, err := json.Marshal(o)
	if err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}

func quotaIn(in *api.ProjectQuota) *project.QuotaRequest {
	if in == nil {
		return nil
	}
	return &project.QuotaRequest{GPUs: in.Gpus, CPU: deref(in.Cpu), Memory: deref(in.Memory)}
}

func quotaOut(q project.Quota) *api.ProjectQuota {
	if q == (project.Quota{}) {
		return nil
	}
	return &api.ProjectQuota{Gpus: &q.GPUs, Cpu: strPtr(q.CPU), Memory: strPtr(q.Memory)}
}

func stepOut(st project.Step) api.ProjectStep {
	return api.ProjectStep{Name: api.ProjectStepName(st.Name), Status: api.ProjectStepStatus(st.Status), Attempts: st.Attempts,
		StartedAt: formatTime(st.StartedAt), FinishedAt: formatTime(st.FinishedAt), Error: strPtr(st.Error), Detail: strPtr(st.Detail)}
}

func projectOut(p project.Project) api.Project {
	out := api.Project{Id: p.ID, Team: p.Team, Name: p.Name, Description: strPtr(p.Description), Template: p.Template,
		TemplateVersion: p.TemplateVersion, Overrides: overridesOut(p.Overrides), Scm: api.ProjectScm(p.SCM), RepoUrl: strPtr(p.RepoURL),
		WebUrl: strPtr(p.WebURL), CatalogInfoUrl: strPtr(p.CatalogInfoURL),
		Namespace: strPtr(p.Namespace), EntityRef: strPtr(p.EntityRef), Status: api.ProjectStatus(p.Status),
		Steps: make([]api.ProjectStep, len(p.Steps)), CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Version: p.Version, Quota: quotaOut(p.Quota)}
	for i, st := range p.Steps {
		out.Steps[i] = stepOut(st)
	}
	return out
}
