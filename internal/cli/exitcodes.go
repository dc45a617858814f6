package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mlportal/mlportal/internal/api"
)

// Exit codes scripts can rely on; documented in docs/cli.md.
const (
	ExitOK              = 0
	ExitError           = 1 // anything not listed below
	ExitUsage           = 2 // bad flags or arguments
	ExitUnauthenticated = 3 // no, expired or revoked credentials (HTTP 401)
	ExitDenied          = 4 // authenticated but not allowed (HTTP 403)
	ExitNotFound        = 5 // HTTP 404
	ExitConflict        = 6 // already exists, changed concurrently (HTTP 409, 412)
	ExitInvalid         = 7 // the server refused the input (HTTP 400, 413, 415, 422)
	ExitUnavailable     = 8 // server unreachable or not ready (HTTP 503, connection refused)
)

// Error is a failure the CLI reports: a message, details, a hint and the
// exit code.
type Error struct {
	Code      int
	Message   string
	Details   []string
	Hint      string
	RequestID string
}

func (e *Error) Error() string { return e.Message }

// usageError marks bad flags or arguments.
func usageError(format string, args ...any) error {
	return &Error{Code: ExitUsage, Message: fmt.Sprintf(format, args...), Hint: "run the command with --help for its usage"}
}

// apiError turns a non-2xx response into an *Error.
func apiError(status int, statusText string, body []byte) error {
	if status < 400 {
		return nil
	}
	var er api.ErrorResponse
	e := &Error{Code: ExitError, Message: fmt.Sprintf("the server answered %s", statusText)}
	if json.Unmarshal(body, &er) == nil && er.Error.Message != "" {
		e.Message, e.RequestID = er.Error.Message, er.RequestId
		if er.Error.Details != nil {
			for _, d := range *er.Error.Details {
				e.Details = append(e.Details, d.Field+": "+d.Reason)
			}
		}
	}
	switch status {
	case 401:
		e.Code, e.Hint = ExitUnauthenticated, "log in again: mlportal login --server URL --token TOKEN (or set MLPORTAL_TOKEN)"
	case 403:
		e.Code, e.Hint = ExitDenied, "ask a maintainer of the team, or a platform admin, for the role you need; `mlportal whoami` shows your grants"
	case 404:
		e.Code = ExitNotFound
	case 409, 412:
		e.Code, e.Hint = ExitConflict, "read the resource again and retry your change"
	case 400, 413, 415, 422:
		e.Code = ExitInvalid
	case 502, 503, 504:
		e.Code, e.Hint = ExitUnavailable, "the server is not ready; check its /readyz and logs"
	}
	return e
}

// transportError explains a request that got no answer.
func transportError(server string, err error) error {
	msg := err.Error()
	hint := "check --server (or MLPORTAL_URL) and that the server runs: `make run` starts one locally"
	if strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") {
		msg = fmt.Sprintf("cannot reach mlportal at %s: %v", server, err)
	}
	return &Error{Code: ExitUnavailable, Message: msg, Hint: hint}
}

// Report prints err for a person and returns the exit code.
func Report(w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: ExitError, Message: err.Error()}
		if strings.HasPrefix(err.Error(), "unknown command") || strings.Contains(err.Error(), "flag") || strings.Contains(err.Error(), "arg(s)") {
			e.Code, e.Hint = ExitUsage, "run `mlportal --help` for the commands and flags"
		}
	}
	fmt.Fprintf(w, "error: %s\n", e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(w, "  - %s\n", d)
	}
	if e.Hint != "" {
		fmt.Fprintf(w, "hint: %s\n", e.Hint)
	}
	if e.RequestID != "" {
		fmt.Fprintf(w, "request id: %s\n", e.RequestID)
	}
	return e.Code
}
