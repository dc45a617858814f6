package mlflowapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/fault"
)

// codes maps fault kinds to MLflow's error codes and the HTTP status its
// server answers them with. A caller's mistake is never a 5xx: MLflow's
// client retries those for minutes.
var codes = []struct {
	kind   error
	code   string
	status int
}{
	{fault.ErrInvalid, "INVALID_PARAMETER_VALUE", http.StatusBadRequest},
	{errMalformed, "MALFORMED_REQUEST", http.StatusBadRequest},
	{fault.ErrNotFound, "RESOURCE_DOES_NOT_EXIST", http.StatusNotFound},
	{errEndpointNotFound, "ENDPOINT_NOT_FOUND", http.StatusNotFound},
	{fault.ErrAlreadyExists, "RESOURCE_ALREADY_EXISTS", http.StatusBadRequest},
	{fault.ErrConflict, "RESOURCE_CONFLICT", http.StatusConflict},
	{fault.ErrPreconditionFailed, "INVALID_STATE", http.StatusBadRequest},
	{fault.ErrUnauthenticated, "UNAUTHENTICATED", http.StatusUnauthorized},
	{fault.ErrPermissionDenied, "PERMISSION_DENIED", http.StatusForbidden},
	{fault.ErrIdempotencyKeyReused, "INVALID_PARAMETER_VALUE", http.StatusBadRequest},
	{fault.ErrUnavailable, "TEMPORARILY_UNAVAILABLE", http.StatusServiceUnavailable},
}

// ErrorBody is MLflow's error response.
type ErrorBody struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// ToMLflow maps an error to MLflow's status and body; the one place this API
// does so. Unknown errors are INTERNAL_ERROR with a generic message; their
// detail goes to the log with the request id.
func ToMLflow(err error) (int, ErrorBody, bool) {
	if fe, ok := fault.As(err); ok {
		for _, k := range codes {
			if errors.Is(fe.Kind, k.kind) {
				return k.status, ErrorBody{ErrorCode: k.code, Message: fe.Message}, true
			}
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return http.StatusNotFound, ErrorBody{"ENDPOINT_NOT_FOUND", "no such MLflow endpoint"}, true
		case http.StatusRequestEntityTooLarge:
			return he.Code, ErrorBody{"INVALID_PARAMETER_VALUE", "the request body is larger than the server accepts (mlportal.server.maxBodyBytes); send fewer entities per request"}, true
		case http.StatusUnauthorized:
			return he.Code, ErrorBody{"UNAUTHENTICATED", "missing or invalid token: set MLFLOW_TRACKING_TOKEN to an mlportal token"}, true
		}
		if he.Code >= 400 && he.Code < 500 {
			return he.Code, ErrorBody{"BAD_REQUEST", http.StatusText(he.Code)}, true
		}
	}
	return http.StatusInternalServerError, ErrorBody{"INTERNAL_ERROR", "internal error; the server log has the details under this response's X-Request-Id"}, false
}

// Present writes err as MLflow's error response; httpapi calls it for every
// error on a mounted MLflow route, the middleware's (401, 413) included.
func (a *API) Present(c echo.Context, err error) {
	if c.Response().Committed {
		return
	}
	status, body, known := ToMLflow(err)
	if !known {
		a.log.Error("internal error", "err", err, "path", c.Request().URL.Path, "request_id", c.Response().Header().Get("X-Request-Id"))
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="mlportal"`)
		if fe, ok := fault.As(err); ok {
			body.Message = fe.Message + " (set MLFLOW_TRACKING_TOKEN to an mlportal token)"
		}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}
