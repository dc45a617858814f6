package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/audit"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/team"
	"github.com/mlportal/mlportal/internal/token"
)

// Authenticator turns a bearer credential into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (identity.Principal, error)
}

// Teams is the team service as the handlers use it.
type Teams interface {
	Create(ctx context.Context, p identity.Principal, name string, spec team.Spec) (team.Team, error)
	Get(ctx context.Context, p identity.Principal, name string) (team.Team, error)
	List(ctx context.Context, p identity.Principal, page pagination.Page) ([]team.Team, string, error)
	Update(ctx context.Context, p identity.Principal, name string, spec team.Spec, ifVersion int64) (team.Team, error)
	Delete(ctx context.Context, p identity.Principal, name string, ifVersion int64) error
}

// Tokens is the token service as the handlers use it.
type Tokens interface {
	Issue(ctx context.Context, p identity.Principal, req token.IssueRequest) (token.Record, string, error)
	Get(ctx context.Context, p identity.Principal, id string) (token.Record, error)
	List(ctx context.Context, p identity.Principal, subject string, includeRevoked bool, page pagination.Page) ([]token.Record, string, error)
	Revoke(ctx context.Context, p identity.Principal, id string) error
}

// Audit records and lists audit events.
type Audit interface {
	Record(ctx context.Context, e audit.Event) error
	List(ctx context.Context, p identity.Principal, f audit.Filter, page pagination.Page) ([]audit.Event, string, error)
}

// Pinger reports whether a dependency answers; /readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// VersionInfo describes the running build.
type VersionInfo struct{ Version, Commit, GoVersion string }

// Deps are the server's collaborators.
type Deps struct {
	Auth         Authenticator
	Teams        Teams
	Tokens       Tokens
	Audit        Audit
	Lifecycle    LifecycleCatalog
	Projects     Projects
	Jobs         Jobs
	Quota        Quota // GPU quota and quota requests
	Costs        Costs // cost roll-ups and budgets
	Models       Models
	Changes      Changes
	Datasets     Datasets
	Idempotency  Idempotency
	Ready        Pinger
	Log          *slog.Logger
	Registry     *prometheus.Registry
	MaxBodyBytes int64
	Version      VersionInfo
	// Mounts are further APIs served through the same middleware (MLflow's).
	Mounts []Mount
}

// Server is the HTTP API.
type Server struct {
	Deps
	log    *slog.Logger
	echo   *echo.Echo
	routes map[string]*route // "METHOD echo-path" → operation
	m      *metrics
}

// route is what the middleware needs to know about one operation.
type route struct {
	kin    *routers.Route
	public bool
	action string // audit action, e.g. team.create
	// stream marks an operation answered with server-sent events
	// (x-mlportal-stream): its request is validated, its response is not.
	stream bool
	// mount is set on the routes of a mounted API (no OpenAPI operation).
	mount *Mount
	// unlimited routes stream their bodies past MaxBodyBytes.
	unlimited bool
	readOnly  bool
}

var _ api.ServerInterface = (*Server)(nil)

// New builds the server.
func New(d Deps) (*Server, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi document is invalid: %w", err)
	}
	s := &Server{Deps: d, log: d.Log, echo: echo.New(), routes: map[string]*route{}}
	s.m = newMetrics(d.Registry)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			public := op.Security != nil && len(*op.Security) == 0
			stream, _ := op.Extensions["x-mlportal-stream"].(bool)
			s.routes[method+" "+echoPath(path)] = &route{
				kin:    &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
				public: public,
				action: auditAction(op.OperationID),
				stream: stream,
			}
		}
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(s.observe, s.recoverPanics, s.limitBody, s.recordAudit, s.authenticate, s.validate, s.idempotent)
	api.RegisterHandlers(e, s)
	for i := range d.Mounts {
		s.mount(&d.Mounts[i])
	}
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))
	return s, nil
}

// Handler returns the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.echo }

// echoPath turns `/teams/{team}` into echo's `/teams/:team`.
func echoPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			parts[i] = ":" + part[1:len(part)-1]
		}
	}
	return strings.Join(parts, "/")
}

// auditAction turns `createTeam` into `team.create`.
func auditAction(opID string) string {
	for i, r := range opID {
		if r >= 'A' && r <= 'Z' {
			return strings.ToLower(opID[i:i+1]) + opID[i+1:] + "." + opID[:i]
		}
	}
	return opID
}

func (s *Server) routeOf(c echo.Context) *route {
	return s.routes[c.Request().Method+" "+c.Path()]
}

func principal(c echo.Context) identity.Principal {
	p, _ := identity.FromContext(c.Request().Context())
	return p
}

func formatTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// writeJSON answers with v as JSON in one write with a Content-Length,
// rather than echo's streamed, chunked encoding.
func writeJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
	c.Response().WriteHeader(status)
	_, err = c.Response().Write(b)
	return err
}
