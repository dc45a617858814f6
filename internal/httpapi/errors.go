package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
)

// kinds maps fault kinds to status and code. Order matters only for errors
// that match several kinds, which none do.
var kinds = []struct {
	kind   error
	status int
	code   api.ErrorBodyCode
}{
	{fault.ErrInvalid, http.StatusUnprocessableEntity, api.ErrorBodyCodeInvalidArgument},
	{errMalformed, http.StatusBadRequest, api.ErrorBodyCodeInvalidRequest},
	{errUnsupportedMedia, http.StatusUnsupportedMediaType, api.ErrorBodyCodeUnsupportedMediaType},
	{fault.ErrNotFound, http.StatusNotFound, api.ErrorBodyCodeNotFound},
	{fault.ErrAlreadyExists, http.StatusConflict, api.ErrorBodyCodeAlreadyExists},
	{fault.ErrConflict, http.StatusConflict, api.ErrorBodyCodeConflict},
	{fault.ErrPreconditionFailed, http.StatusPreconditionFailed, api.ErrorBodyCodePreconditionFailed},
	{fault.ErrUnauthenticated, http.StatusUnauthorized, api.ErrorBodyCodeUnauthenticated},
	{fault.ErrPermissionDenied, http.StatusForbidden, api.ErrorBodyCodePermissionDenied},
	{fault.ErrIdempotencyKeyReused, http.StatusUnprocessableEntity, api.ErrorBodyCodeIdempotencyKeyReused},
	{fault.ErrUnavailable, http.StatusServiceUnavailable, api.ErrorBodyCodeUnavailable},
}

// Transport-only kinds.
var (
	errMalformed        = errors.New("malformed request")
	errUnsupportedMedia = errors.New("unsupported media type")
)

// echoStatus maps the errors echo itself raises (routing, body limit).
var echoStatus = map[int]api.ErrorBodyCode{
	http.StatusNotFound:              api.ErrorBodyCodeNotFound,
	http.StatusMethodNotAllowed:      api.ErrorBodyCodeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: api.ErrorBodyCodePayloadTooLarge,
	http.StatusUnsupportedMediaType:  api.ErrorBodyCodeUnsupportedMediaType,
	http.StatusBadRequest:            api.ErrorBodyCodeInvalidRequest,
	http.StatusUnauthorized:          api.ErrorBodyCodeUnauthenticated,
}

var echoMessage = map[int]string{
	http.StatusNotFound:              "no such endpoint; see GET /api/v1/openapi.yaml for the API",
	http.StatusMethodNotAllowed:      "this endpoint does not accept that method; see GET /api/v1/openapi.yaml",
	http.StatusRequestEntityTooLarge: "the request body is larger than the server accepts (mlportal.server.maxBodyBytes)",
}

// toResponse is the one place errors become HTTP status codes and bodies.
// Unknown errors are 500 with a generic message; their detail goes to the log.
func toResponse(err error, requestID string, log *slog.Logger) (int, api.ErrorResponse) {
	body := api.ErrorResponse{RequestId: requestID}
	if fe, ok := fault.As(err); ok {
		for _, k := range kinds {
			if errors.Is(fe.Kind, k.kind) {
				body.Error = api.ErrorBody{Code: k.code, Message: fe.Message}
				if len(fe.Fields) > 0 {
					d := make([]api.FieldError, len(fe.Fields))
					for i, f := range fe.Fields {
						d[i] = api.FieldError{Field: f.Field, Reason: f.Reason}
					}
					body.Error.Details = &d
				}
				return k.status, body
			}
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if code, ok := echoStatus[he.Code]; ok {
			msg := echoMessage[he.Code]
			if msg == "" {
				msg = http.StatusText(he.Code)
				if m, ok := he.Message.(string); ok {
					msg = m
				}
			}
			body.Error = api.ErrorBody{Code: code, Message: msg}
			return he.Code, body
		}
	}
	log.Error("internal error", "err", err, "request_id", requestID)
	body.Error = api.ErrorBody{Code: api.ErrorBodyCodeInternal, Message: "internal error; the server log has the details under this request id"}
	return http.StatusInternalServerError, body
}

// errorHandler is echo's HTTPErrorHandler.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if rt := s.routeOf(c); rt != nil && rt.mount != nil {
		rt.mount.Present(c, err)
		return
	}
	status, body := toResponse(err, requestID(c), s.log)
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="mlportal"`)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = writeJSON(c, status, body)
}
