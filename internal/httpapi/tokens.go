package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/token"
)

// CreateToken issues a token.
func (s *Server) CreateToken(c echo.Context, _ api.CreateTokenParams) error {
	var in api.TokenCreate
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	req := token.IssueRequest{Name: in.Name, Team: deref(in.Team)}
	for _, v := range in.Verbs {
		req.Verbs = append(req.Verbs, identity.Verb(v))
	}
	if in.Ttl != nil {
		d, err := time.ParseDuration(*in.Ttl)
		if err != nil {
			return fault.Invalid("ttl is not a duration", fault.Field("ttl", "use a Go duration such as 720h (%v)", err))
		}
		req.TTL = d
	}
	rec, secret, err := s.Tokens.Issue(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	setAuditTarget(c, "tokens/"+rec.ID)
	t := tokenOut(rec)
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/tokens/"+rec.ID)
	return writeJSON(c, http.StatusCreated, api.IssuedToken{Id: t.Id, Name: t.Name, Subject: t.Subject, Team: t.Team,
		Verbs: t.Verbs, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Token: secret})
}

// ListTokens lists tokens.
func (s *Server) ListTokens(c echo.Context, params api.ListTokensParams) error {
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	rs, next, err := s.Tokens.List(c.Request().Context(), principal(c), deref(params.Subject), deref(params.IncludeRevoked), page)
	if err != nil {
		return err
	}
	out := api.TokenList{Items: make([]api.Token, len(rs)), NextPageToken: strPtr(next)}
	for i, r := range rs {
		out.Items[i] = tokenOut(r)
	}
	return writeJSON(c, http.StatusOK, out)
}

// GetToken returns a token's metadata.
func (s *Server) GetToken(c echo.Context, id string) error {
	r, err := s.Tokens.Get(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, tokenOut(r))
}

// RevokeToken revokes a token.
func (s *Server) RevokeToken(c echo.Context, id string) error {
	if err := s.Tokens.Revoke(c.Request().Context(), principal(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func tokenOut(r token.Record) api.Token {
	return api.Token{Id: r.ID, Name: r.Name, Subject: r.Subject, Team: strPtr(r.Team), Verbs: apiVerbs(r.Verbs),
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, RevokedAt: formatTime(r.RevokedAt)}
}
