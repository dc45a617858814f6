package httpapi

import "github.com/labstack/echo/v4"

// Mount is an API with its own wire format (MLflow's, say) served through
// this server's middleware: request id, recovery, access log, metrics, audit
// of mutating calls and authentication. OpenAPI validation and
// Idempotency-Key handling do not apply: the mounted API is not described by
// openapi.yaml. Its errors, the middleware's included, are written by Present
// in the mounted API's format.
type Mount struct {
	Routes  []MountRoute
	Present func(c echo.Context, err error)
}

// MountRoute is one operation of a mounted API.
type MountRoute struct {
	Method, Path string
	Handler      echo.HandlerFunc
	// Action names the operation in the audit trail, e.g. mlflow.createRun.
	Action string
	// Public operations skip authentication.
	Public bool
	// ReadOnly operations are not audited even when sent as POST (MLflow
	// searches are).
	ReadOnly bool
	// Unlimited bodies are streamed by the handler (artifact uploads) and
	// exempt from mlportal.server.maxBodyBytes.
	Unlimited bool
}

// SetAuditTarget names the resource a mounted handler acted on, for the
// audit event of the request.
func SetAuditTarget(c echo.Context, target string) { setAuditTarget(c, target) }

func (s *Server) mount(m *Mount) {
	for _, r := range m.Routes {
		s.echo.Add(r.Method, r.Path, r.Handler)
		s.routes[r.Method+" "+r.Path] = &route{public: r.Public, action: r.Action, mount: m, unlimited: r.Unlimited, readOnly: r.ReadOnly}
	}
}
