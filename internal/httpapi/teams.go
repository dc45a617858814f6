package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/team"
)

// ListTeams returns a page of teams.
func (s *Server) ListTeams(c echo.Context, params api.ListTeamsParams) error {
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	ts, next, err := s.Teams.List(c.Request().Context(), principal(c), page)
	if err != nil {
		return err
	}
	out := api.TeamList{Items: make([]api.Team, len(ts)), NextPageToken: strPtr(next)}
	for i, t := range ts {
		out.Items[i] = teamOut(t)
	}
	return writeJSON(c, http.StatusOK, out)
}

// CreateTeam creates a team.
func (s *Server) CreateTeam(c echo.Context, _ api.CreateTeamParams) error {
	var in api.TeamCreate
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	setAuditTarget(c, "teams/"+in.Name)
	t, err := s.Teams.Create(c.Request().Context(), principal(c), in.Name, teamSpec(in.DisplayName, in.Description,
		in.BackstageGroup, in.CostCenter, in.Members, in.GpuQuota, in.FairShareWeight))
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(t.Version))
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/teams/"+t.Name)
	return writeJSON(c, http.StatusCreated, teamOut(t))
}

// GetTeam returns one team.
func (s *Server) GetTeam(c echo.Context, name api.TeamName) error {
	t, err := s.Teams.Get(c.Request().Context(), principal(c), name)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(t.Version))
	return writeJSON(c, http.StatusOK, teamOut(t))
}

// UpdateTeam replaces a team's mutable fields.
func (s *Server) UpdateTeam(c echo.Context, name api.TeamName, params api.UpdateTeamParams) error {
	var in api.TeamUpdate
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	ifVersion, err := parseIfMatch(params.IfMatch)
	if err != nil {
		return err
	}
	t, err := s.Teams.Update(c.Request().Context(), principal(c), name, teamSpec(in.DisplayName, in.Description,
		in.BackstageGroup, in.CostCenter, in.Members, in.GpuQuota, in.FairShareWeight), ifVersion)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(t.Version))
	return writeJSON(c, http.StatusOK, teamOut(t))
}

// DeleteTeam deletes a team.
func (s *Server) DeleteTeam(c echo.Context, name api.TeamName, params api.DeleteTeamParams) error {
	ifVersion, err := parseIfMatch(params.IfMatch)
	if err != nil {
		return err
	}
	if err := s.Teams.Delete(c.Request().Context(), principal(c), name, ifVersion); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseIfMatch returns the version an If-Match header names (0 when absent or
// `*`). A tag this server never issued cannot match: 412.
func parseIfMatch(h *string) (int64, error) {
	if h == nil || *h == "" || *h == "*" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(strings.TrimSpace(*h), "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fault.New(fault.ErrPreconditionFailed, "If-Match %s is not an ETag this server issued; send the ETag of your last read", *h)
	}
	return n, nil
}

func teamSpec(display, desc, group, cost *string, members *[]api.Member, quota *[]api.GPUQuota, weight *float64) team.Spec {
	s := team.Spec{DisplayName: deref(display), Description: deref(desc), BackstageGroup: deref(group), CostCenter: deref(cost),
		FairShareWeight: weight}
	for _, m := range deref(members) {
		s.Members = append(s.Members, identity.Member{Subject: m.Subject, Role: identity.Role(m.Role)})
	}
	for _, q := range deref(quota) {
		s.GPUQuota = append(s.GPUQuota, team.GPUQuota{GPUType: q.GpuType, Nominal: q.Nominal, BorrowingLimit: deref(q.BorrowingLimit)})
	}
	return s
}

func teamOut(t team.Team) api.Team {
	out := api.Team{Name: t.Name, DisplayName: t.DisplayName, Description: strPtr(t.Description),
		BackstageGroup: strPtr(t.BackstageGroup), CostCenter: strPtr(t.CostCenter), CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt, CreatedBy: t.CreatedBy, Version: t.Version, FairShareWeight: t.FairShareWeight,
		Members: make([]api.Member, len(t.Members)), GpuQuota: make([]api.GPUQuota, len(t.GPUQuota))}
	for i, m := range t.Members {
		out.Members[i] = api.Member{Subject: m.Subject, Role: api.Role(m.Role)}
	}
	for i, q := range t.GPUQuota {
		bl := q.BorrowingLimit
		out.GpuQuota[i] = api.GPUQuota{GpuType: q.GPUType, Nominal: q.Nominal, BorrowingLimit: &bl}
	}
	return out
}
