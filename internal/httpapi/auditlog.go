package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/audit"
	"github.com/mlportal/mlportal/internal/pagination"
)

// ListAuditEvents returns the audit trail, newest first.
func (s *Server) ListAuditEvents(c echo.Context, params api.ListAuditEventsParams) error {
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	f := audit.Filter{Actor: deref(params.Actor), Action: deref(params.Action), Target: deref(params.Target),
		RequestID: deref(params.RequestId), Outcome: audit.Outcome(deref(params.Outcome)),
		Since: deref(params.Since), Until: deref(params.Until)}
	es, next, err := s.Audit.List(c.Request().Context(), principal(c), f, page)
	if err != nil {
		return err
	}
	out := api.AuditEventList{Items: make([]api.AuditEvent, len(es)), NextPageToken: strPtr(next)}
	for i, e := range es {
		out.Items[i] = api.AuditEvent{Id: e.ID, Time: e.Time, Actor: e.Actor, Action: e.Action, Target: e.Target,
			Outcome: api.AuditOutcome(e.Outcome), Status: e.Status, RequestId: e.RequestID,
			Method: strPtr(e.Method), Path: strPtr(e.Path), Reason: strPtr(e.Reason)}
	}
	return writeJSON(c, http.StatusOK, out)
}
