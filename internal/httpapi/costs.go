package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/cost"
	"github.com/mlportal/mlportal/internal/identity"
)

// Costs is the cost and budget service as the handlers use it.
type Costs interface {
	Report(ctx context.Context, p identity.Principal, q cost.Query) (cost.Report, error)
	GetBudget(ctx context.Context, p identity.Principal, team string) (cost.BudgetStatus, error)
	SetBudget(ctx context.Context, p identity.Principal, team string, spec cost.BudgetSpec, ifVersion int64) (cost.BudgetStatus, error)
}

// GetCosts returns a cost roll-up.
func (s *Server) GetCosts(c echo.Context, params api.GetCostsParams) error {
	q := cost.Query{Team: deref(params.Team), Project: deref(params.Project), From: deref(params.From), To: deref(params.To)}
	if params.GroupBy != nil {
		q.GroupBy = cost.GroupBy(*params.GroupBy)
	}
	r, err := s.Costs.Report(c.Request().Context(), principal(c), q)
	if err != nil {
		return err
	}
	out := api.CostReport{Currency: r.Currency, GroupBy: api.CostReportGroupBy(r.GroupBy), Team: strPtr(r.Team), Project: strPtr(r.Project),
		From: formatTime(r.From), To: formatTime(r.To), Items: make([]api.CostLine, len(r.Lines)), Total: costLineOut(r.Total), AsOf: r.AsOf}
	for i, l := range r.Lines {
		out.Items[i] = costLineOut(l)
	}
	return writeJSON(c, http.StatusOK, out)
}

func costLineOut(l cost.Line) api.CostLine {
	return api.CostLine{Team: strPtr(l.Key.Team), Project: strPtr(l.Key.Project), Month: strPtr(l.Key.Month), GpuType: strPtr(l.Key.GPUType),
		Jobs: l.Jobs, GpuHours: l.GPUHours(), Cost: l.Cost}
}

// GetTeamBudget returns a team's budget and this month's spending.
func (s *Server) GetTeamBudget(c echo.Context, team api.TeamName) error {
	b, err := s.Costs.GetBudget(c.Request().Context(), principal(c), team)
	if err != nil {
		return err
	}
	return writeBudget(c, b)
}

// SetTeamBudget sets a team's budget.
func (s *Server) SetTeamBudget(c echo.Context, team api.TeamName, params api.SetTeamBudgetParams) error {
	var in api.BudgetSet
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	ifVersion, err := parseIfMatch(params.IfMatch)
	if err != nil {
		return err
	}
	b, err := s.Costs.SetBudget(c.Request().Context(), principal(c), team,
		cost.BudgetSpec{MonthlyAmount: in.MonthlyAmount, WarningThreshold: in.WarningThreshold, HardLimit: deref(in.HardLimit)}, ifVersion)
	if err != nil {
		return err
	}
	return writeBudget(c, b)
}

func writeBudget(c echo.Context, b cost.BudgetStatus) error {
	out := api.Budget{Team: b.Team, Currency: b.Currency, Month: b.Month, Spent: b.Spent, State: api.BudgetState(b.State)}
	if b.Version > 0 {
		c.Response().Header().Set("ETag", etag(b.Version))
		out.MonthlyAmount, out.WarningThreshold, out.HardLimit = &b.MonthlyAmount, &b.WarningThreshold, &b.HardLimit
		out.Fraction, out.UpdatedBy, out.UpdatedAt, out.Version = &b.Fraction, strPtr(b.UpdatedBy), formatTime(b.UpdatedAt), &b.Version
	}
	return writeJSON(c, http.StatusOK, out)
}
