package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
)

// GetHealth answers while the process serves requests.
func (s *Server) GetHealth(c echo.Context) error {
	return writeJSON(c, http.StatusOK, api.Health{Status: api.HealthStatusOk})
}

// GetReady answers 200 when the store does.
func (s *Server) GetReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok"}
	if err := s.Ready.Ping(ctx); err != nil {
		checks["store"] = err.Error()
		return writeJSON(c, http.StatusServiceUnavailable, api.Health{Status: api.HealthStatusUnavailable, Checks: &checks})
	}
	return writeJSON(c, http.StatusOK, api.Health{Status: api.HealthStatusOk, Checks: &checks})
}

// GetOpenAPI serves the contract.
func (s *Server) GetOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", api.Spec)
}

// GetVersion reports the build.
func (s *Server) GetVersion(c echo.Context) error {
	v := s.Version
	return writeJSON(c, http.StatusOK, api.Version{Version: v.Version, Commit: v.Commit, GoVersion: v.GoVersion})
}

// maxGrantScan bounds how many teams whoami inspects for a user's roles.
const maxGrantScan = 2000

// WhoAmI tells callers who the server thinks they are and what they may do.
func (s *Server) WhoAmI(c echo.Context) error {
	p := principal(c)
	out := api.Identity{Subject: p.Subject, Kind: api.IdentityKind(p.Kind), Groups: append([]string{}, p.Groups...),
		Admin: p.Admin, TokenId: strPtr(p.TokenID), ExpiresAt: formatTime(p.ExpiresAt), Grants: []api.Grant{}}
	switch {
	case p.Kind == identity.KindToken:
		team := p.TokenTeam
		if team == "" {
			team = "*"
		}
		out.Grants = append(out.Grants, api.Grant{Team: team, Verbs: apiVerbs(p.TokenVerbs)})
	case p.Admin:
		out.Grants = append(out.Grants, api.Grant{Team: "*", Verbs: apiVerbs(identity.AllVerbs)})
	default:
		page := pagination.Page{Limit: pagination.MaxLimit}
		for scanned := 0; scanned < maxGrantScan; scanned += page.Limit {
			ts, next, err := s.Teams.List(c.Request().Context(), p, page)
			if err != nil {
				return err
			}
			for _, t := range ts {
				if r, ok := p.RoleIn(t.Membership()); ok {
					role := api.Role(r)
					out.Grants = append(out.Grants, api.Grant{Team: t.Name, Role: &role, Verbs: apiVerbs(r.Verbs())})
				}
			}
			if next == "" {
				break
			}
			page.After, _ = pagination.Decode(next)
		}
	}
	return writeJSON(c, http.StatusOK, out)
}

func apiVerbs(vs []identity.Verb) []api.Verb {
	out := make([]api.Verb, len(vs))
	for i, v := range vs {
		out[i] = api.Verb(v)
	}
	return out
}
