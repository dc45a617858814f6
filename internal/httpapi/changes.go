package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/models"
)

// Changes is the change feed as the handler uses it.
type Changes interface {
	List(ctx context.Context, p identity.Principal, cursor string, wait time.Duration, limit int) ([]models.Change, string, error)
}

// ListChanges answers the change feed, holding an empty answer up to
// `wait` for a change (long poll).
func (s *Server) ListChanges(c echo.Context, params api.ListChangesParams) error {
	if s.Changes == nil {
		return fault.New(fault.ErrUnavailable, "the change feed is not configured on this server")
	}
	var wait time.Duration
	if w := deref(params.Wait); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 || d > models.MaxWait {
			return fault.Invalid("wait is not valid", fault.Field("wait", "must be a duration from 0s to %s, such as 10s (got %q)", models.MaxWait, w))
		}
		wait = d
	}
	cs, next, err := s.Changes.List(c.Request().Context(), principal(c), deref(params.After), wait, deref(params.Limit))
	if err != nil {
		return err
	}
	out := api.ChangeList{Items: make([]api.Change, len(cs)), Next: next}
	for i, ch := range cs {
		out.Items[i] = api.Change{Kind: api.ChangeKind(ch.Kind), Name: ch.Name, Op: api.ChangeOp(ch.Op), At: time.UnixMilli(ch.Time).UTC()}
		if ch.Version > 0 {
			v := ch.Version
			out.Items[i].Version = &v
		}
	}
	return writeJSON(c, http.StatusOK, out)
}
