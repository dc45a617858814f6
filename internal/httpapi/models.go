package httpapi

import (
	"context"
	"net/http"
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/datasets"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/models"
	"github.com/mlportal/mlportal/internal/pagination"
)

// Models is the registry view as the handlers use it.
type Models interface {
	ListModels(ctx context.Context, p identity.Principal, f models.Filter, page pagination.Page) ([]models.Model, string, error)
	GetModel(ctx context.Context, p identity.Principal, name string) (models.Model, error)
	ListVersions(ctx context.Context, p identity.Principal, name string, page pagination.Page) ([]models.Version, string, error)
	GetVersion(ctx context.Context, p identity.Principal, name string, version int64) (models.Version, error)
	SetApproval(ctx context.Context, p identity.Principal, name string, version int64, status, comment string) (models.Version, error)
	History(ctx context.Context, p identity.Principal, name string, page pagination.Page) ([]models.Event, string, error)
	Lineage(ctx context.Context, p identity.Principal, name string) (models.Lineage, error)
	Docs(ctx context.Context, p identity.Principal, name string) (models.Docs, error)
}

func (s *Server) models() (Models, error) {
	if s.Models == nil {
		return nil, fault.New(fault.ErrUnavailable, "the model catalog is not configured on this server")
	}
	return s.Models, nil
}

// ListModels returns a page of registered models.
func (s *Server) ListModels(c echo.Context, params api.ListModelsParams) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	ms, next, err := svc.ListModels(c.Request().Context(), principal(c),
		models.Filter{Team: deref(params.Team), Project: deref(params.Project), Query: deref(params.Q)}, page)
	if err != nil {
		return err
	}
	out := api.ModelList{Items: make([]api.Model, len(ms)), NextPageToken: strPtr(next)}
	for i, m := range ms {
		out.Items[i] = modelOut(m)
	}
	return writeJSON(c, http.StatusOK, out)
}

// GetModel returns one model.
func (s *Server) GetModel(c echo.Context, name api.ModelName) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	m, err := svc.GetModel(c.Request().Context(), principal(c), name)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, modelOut(m))
}

// ListModelVersions returns a page of a model's versions, newest first.
func (s *Server) ListModelVersions(c echo.Context, name api.ModelName, params api.ListModelVersionsParams) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	vs, next, err := svc.ListVersions(c.Request().Context(), principal(c), name, page)
	if err != nil {
		return err
	}
	out := api.ModelVersionList{Items: make([]api.ModelVersion, len(vs)), NextPageToken: strPtr(next)}
	for i, v := range vs {
		out.Items[i] = versionOut(v)
	}
	return writeJSON(c, http.StatusOK, out)
}

// GetModelVersion returns one version.
func (s *Server) GetModelVersion(c echo.Context, name api.ModelName, version api.ModelVersionNumber) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	v, err := svc.GetVersion(c.Request().Context(), principal(c), name, version)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, versionOut(v))
}

// SetModelVersionApproval approves or rejects a version (maintainers).
func (s *Server) SetModelVersionApproval(c echo.Context, name api.ModelName, version api.ModelVersionNumber) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	var in api.ApprovalChange
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	setAuditTarget(c, "models/"+name+"/versions/"+strconv.FormatInt(version, 10))
	v, err := svc.SetApproval(c.Request().Context(), principal(c), name, version, string(in.Status), deref(in.Comment))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, versionOut(v))
}

// GetModelHistory returns a page of the model's events, oldest first.
func (s *Server) GetModelHistory(c echo.Context, name api.ModelName, params api.GetModelHistoryParams) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	evs, next, err := svc.History(c.Request().Context(), principal(c), name, page)
	if err != nil {
		return err
	}
	out := api.ModelEventList{Items: make([]api.ModelEvent, len(evs)), NextPageToken: strPtr(next)}
	for i, e := range evs {
		out.Items[i] = api.ModelEvent{Id: e.ID, Kind: api.ModelEventKind(e.Kind), Alias: strPtr(e.Alias), From: strPtr(e.From), To: strPtr(e.To),
			Reason: strPtr(e.Reason), Actor: e.Actor, At: e.At}
		if e.Version > 0 {
			v := e.Version
			out.Items[i].Version = &v
		}
	}
	return writeJSON(c, http.StatusOK, out)
}

// GetModelLineage returns the graph dataset → run → model version → deployment.
func (s *Server) GetModelLineage(c echo.Context, name api.ModelName) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	l, err := svc.Lineage(c.Request().Context(), principal(c), name)
	if err != nil {
		return err
	}
	var out api.Lineage
	out.Nodes = make([]struct {
		Attributes *map[string]string   `json:"attributes,omitempty"`
		Id         string               `json:"id"`
		Kind       api.LineageNodesKind `json:"kind"`
		Label      string               `json:"label"`
	}, len(l.Nodes))
	for i, n := range l.Nodes {
		out.Nodes[i].Id, out.Nodes[i].Kind, out.Nodes[i].Label = n.ID, api.LineageNodesKind(n.Kind), n.Label
		if len(n.Attributes) > 0 {
			attrs := n.Attributes
			out.Nodes[i].Attributes = &attrs
		}
	}
	out.Edges = make([]struct {
		From string               `json:"from"`
		Kind api.LineageEdgesKind `json:"kind"`
		To   string               `json:"to"`
	}, len(l.Edges))
	for i, e := range l.Edges {
		out.Edges[i].From, out.Edges[i].Kind, out.Edges[i].To = e.From, api.LineageEdgesKind(e.Kind), e.To
	}
	return writeJSON(c, http.StatusOK, out)
}

// GetModelDocs returns the model's TechDocs source tree with its ETag;
// If-None-Match with that ETag answers 304.
func (s *Server) GetModelDocs(c echo.Context, name api.ModelName) error {
	svc, err := s.models()
	if err != nil {
		return err
	}
	d, err := svc.Docs(c.Request().Context(), principal(c), name)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", d.ETag)
	c.Response().Header().Set("Cache-Control", "no-cache")
	if match := c.Request().Header.Get("If-None-Match"); match != "" && match == d.ETag {
		return c.NoContent(http.StatusNotModified)
	}
	var out api.DocsTree
	out.Files = make([]struct {
		Content string `json:"content"`
		Path    string `json:"path"`
	}, len(d.Files))
	for i, f := range d.Files {
		out.Files[i].Path, out.Files[i].Content = f.Path, f.Content
	}
	return writeJSON(c, http.StatusOK, out)
}

func modelOut(m models.Model) api.Model {
	out := api.Model{Name: m.Name, Team: m.Team, Project: strPtr(m.Project), Description: strPtr(m.Description), Framework: strPtr(m.Framework),
		Stage: strPtr(m.Stage), ExperimentId: strPtr(m.ExperimentID), Aliases: m.Aliases, Tags: m.Tags, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		LatestVersions: make([]api.ModelVersion, len(m.LatestVersions))}
	for i, v := range m.LatestVersions {
		out.LatestVersions[i] = versionOut(v)
	}
	deps := make([]api.Deployment, len(m.Deployments))
	for i, d := range m.Deployments {
		deps[i] = api.Deployment{Environment: d.Environment, Version: d.Version, State: d.State, Url: strPtr(d.URL), Since: formatTime(d.Since)}
	}
	out.Deployments = &deps
	if out.Aliases == nil {
		out.Aliases = map[string]int64{}
	}
	if out.Tags == nil {
		out.Tags = map[string]string{}
	}
	return out
}

func versionOut(v models.Version) api.ModelVersion {
	out := api.ModelVersion{Model: v.Model, Version: v.Version, Description: strPtr(v.Description), Stage: v.Stage, Aliases: v.Aliases,
		RunId: strPtr(v.RunID), JobId: strPtr(v.JobID), Source: strPtr(v.Source), ArtifactUri: strPtr(v.ArtifactURI), Digest: strPtr(v.Digest),
		Framework: strPtr(v.Framework), CodeRepository: strPtr(v.CodeRepository), Commit: strPtr(v.Commit), ImageDigest: strPtr(v.ImageDigest),
		CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy,
		Approval: api.Approval{Status: api.ApprovalStatus(v.Approval.Status), By: strPtr(v.Approval.By), At: formatTime(v.Approval.At), Comment: strPtr(v.Approval.Comment)}}
	if out.Aliases == nil {
		out.Aliases = []string{}
	}
	sort.Strings(out.Aliases)
	if v.Signature != nil {
		out.Signature = &api.ModelSignature{Inputs: columnsOut(v.Signature.Inputs), Outputs: columnsOut(v.Signature.Outputs)}
	}
	if v.Metrics != nil {
		out.Metrics = &v.Metrics
	}
	if v.Params != nil {
		out.Params = &v.Params
	}
	if len(v.Datasets) > 0 {
		ds := make([]api.DatasetRef, len(v.Datasets))
		for i, d := range v.Datasets {
			ds[i] = datasetRefOut(d)
		}
		out.Datasets = &ds
	}
	return out
}

func columnsOut(cs []models.ColumnSpec) *[]api.ColumnSpec {
	if cs == nil {
		return nil
	}
	out := make([]api.ColumnSpec, len(cs))
	for i, c := range cs {
		out[i] = api.ColumnSpec{Name: strPtr(c.Name), Type: c.Type}
		if c.Shape != nil {
			shape := c.Shape
			out[i].Shape = &shape
		}
		if c.Optional {
			out[i].Optional = &c.Optional
		}
	}
	return &out
}

func datasetRefOut(d datasets.Ref) api.DatasetRef {
	out := api.DatasetRef{Name: d.Name, Digest: strPtr(d.Digest), Uri: strPtr(d.URI)}
	if d.Version > 0 {
		v := d.Version
		out.Version = &v
	}
	if d.Quality != "" {
		q := api.DatasetRefQuality(d.Quality)
		out.Quality = &q
	}
	return out
}
