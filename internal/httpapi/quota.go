package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/quota"
)

// Quota is the quota service as the handlers use it.
type Quota interface {
	Usage(ctx context.Context, p identity.Principal, team string) (quota.Usage, error)
	Create(ctx context.Context, p identity.Principal, team string, spec quota.Spec) (quota.Request, error)
	Get(ctx context.Context, p identity.Principal, team, id string) (quota.Request, error)
	List(ctx context.Context, p identity.Principal, team string, status quota.Status, page pagination.Page) ([]quota.Request, string, error)
	Approve(ctx context.Context, p identity.Principal, team, id, comment string) (quota.Request, error)
	Deny(ctx context.Context, p identity.Principal, team, id, reason string) (quota.Request, error)
}

// GetTeamQuota returns a team's quota and what its jobs use.
func (s *Server) GetTeamQuota(c echo.Context, team api.TeamName) error {
	u, err := s.Quota.Usage(c.Request().Context(), principal(c), team)
	if err != nil {
		return err
	}
	out := api.TeamQuota{Team: u.Team, Ceiling: u.Ceiling, GpuTypes: make([]api.GPUTypeUsage, len(u.Types)),
		Projects: make([]api.ProjectGPUQuota, len(u.Projects))}
	for i, t := range u.Types {
		g := api.GPUTypeUsage{GpuType: t.GPUType, Nominal: t.Nominal, BorrowingLimit: t.BorrowingLimit, InUse: t.InUse,
			Borrowed: t.Borrowed, Available: t.Available, Jobs: make([]api.QuotaJob, len(t.Jobs))}
		for k, j := range t.Jobs {
			g.Jobs[k] = api.QuotaJob{Id: j.ID, Name: j.Name, Project: j.Project, Gpus: j.GPUs, State: api.QuotaJobState(j.State)}
		}
		out.GpuTypes[i] = g
	}
	for i, p := range u.Projects {
		out.Projects[i] = api.ProjectGPUQuota{Name: p.Name, Namespace: strPtr(p.Namespace), Gpus: p.GPUs}
	}
	return writeJSON(c, http.StatusOK, out)
}

// ListQuotaRequests returns a page of a team's quota requests.
func (s *Server) ListQuotaRequests(c echo.Context, team api.TeamName, params api.ListQuotaRequestsParams) error {
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	var status quota.Status
	if params.Status != nil {
		status = quota.Status(*params.Status)
	}
	rs, next, err := s.Quota.List(c.Request().Context(), principal(c), team, status, page)
	if err != nil {
		return err
	}
	out := api.QuotaRequestList{Items: make([]api.QuotaRequest, len(rs)), NextPageToken: strPtr(next)}
	for i, r := range rs {
		out.Items[i] = quotaRequestOut(r)
	}
	return writeJSON(c, http.StatusOK, out)
}

// CreateQuotaRequest files a quota request.
func (s *Server) CreateQuotaRequest(c echo.Context, team api.TeamName, _ api.CreateQuotaRequestParams) error {
	var in api.QuotaRequestCreate
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	spec := quota.Spec{GPUType: in.GpuType, GPUs: in.Gpus, BorrowingLimit: in.BorrowingLimit, Project: deref(in.Project),
		ProjectGPUs: in.ProjectGpus, Justification: in.Justification}
	if in.Duration != nil {
		d, err := time.ParseDuration(*in.Duration)
		if err != nil {
			return fault.Invalid("the quota request is not valid", fault.Field("duration", "must be a duration such as 720h (got %q)", *in.Duration))
		}
		spec.Duration = d
	}
	r, err := s.Quota.Create(c.Request().Context(), principal(c), team, spec)
	if err != nil {
		return err
	}
	setAuditTarget(c, "teams/"+team+"/quota-requests/"+r.ID)
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/teams/"+team+"/quota-requests/"+r.ID)
	return writeJSON(c, http.StatusCreated, quotaRequestOut(r))
}

// GetQuotaRequest returns one quota request.
func (s *Server) GetQuotaRequest(c echo.Context, team api.TeamName, id api.QuotaRequestId) error {
	r, err := s.Quota.Get(c.Request().Context(), principal(c), team, id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, quotaRequestOut(r))
}

// ApproveQuotaRequest approves a request and applies it.
func (s *Server) ApproveQuotaRequest(c echo.Context, team api.TeamName, id api.QuotaRequestId) error {
	setAuditTarget(c, "teams/"+team+"/quota-requests/"+id)
	var in api.QuotaDecision
	if c.Request().ContentLength != 0 {
		if err := decodeBody(c, &in); err != nil {
			return err
		}
	}
	r, err := s.Quota.Approve(c.Request().Context(), principal(c), team, id, deref(in.Comment))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, quotaRequestOut(r))
}

// DenyQuotaRequest denies a request.
func (s *Server) DenyQuotaRequest(c echo.Context, team api.TeamName, id api.QuotaRequestId) error {
	setAuditTarget(c, "teams/"+team+"/quota-requests/"+id)
	var in api.QuotaDecision
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	r, err := s.Quota.Deny(c.Request().Context(), principal(c), team, id, deref(in.Comment))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, quotaRequestOut(r))
}

func quotaRequestOut(r quota.Request) api.QuotaRequest {
	out := api.QuotaRequest{Id: r.ID, Team: r.Team, GpuType: r.GPUType, Gpus: r.GPUs, BorrowingLimit: r.BorrowingLimit,
		Project: strPtr(r.Project), ProjectGpus: r.ProjectGPUs, Justification: r.Justification, Status: api.QuotaRequestStatus(r.Status),
		RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt, DecidedBy: strPtr(r.DecidedBy), DecidedAt: formatTime(r.DecidedAt),
		Comment: strPtr(r.Comment), ExpiresAt: formatTime(r.ExpiresAt), Applied: r.Applied, AppliedAt: formatTime(r.AppliedAt),
		ApplyError: strPtr(r.ApplyError), Attempts: r.Attempts, Version: r.Version}
	if r.Duration > 0 {
		out.Duration = strPtr(shortDuration(r.Duration))
	}
	if ch := r.Change; ch != nil {
		out.Change = &api.QuotaChange{HadEntry: ch.HadEntry, NominalBefore: ch.NominalBefore, NominalAfter: ch.NominalAfter,
			BorrowingLimitBefore: ch.BorrowingBefore, BorrowingLimitAfter: ch.BorrowingAfter}
		if r.Project != "" {
			out.Change.ProjectGpusBefore, out.Change.ProjectGpusAfter = &ch.ProjectGPUsBefore, &ch.ProjectGPUsAfter
		}
	}
	return out
}

// shortDuration writes 720h rather than Go's 720h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
