// Package fault defines the kinds of error mlportal's domain returns and the
// safe, client-facing message each carries.
//
// Domain and adapter code returns a *fault.Error (or wraps one with %w) when a
// failure is the caller's to fix; anything else is an internal error whose
// detail is logged and never shown. Exactly one function, in the HTTP transport,
// maps these kinds to status codes. This package knows nothing of HTTP.
package fault

import (
	"errors"
	"fmt"
)

// Kinds of failure. Compare with errors.Is.
var (
	ErrInvalid              = errors.New("invalid argument")
	ErrNotFound             = errors.New("not found")
	ErrAlreadyExists        = errors.New("already exists")
	ErrConflict             = errors.New("conflict")
	ErrPreconditionFailed   = errors.New("precondition failed")
	ErrUnauthenticated      = errors.New("unauthenticated")
	ErrPermissionDenied     = errors.New("permission denied")
	ErrIdempotencyKeyReused = errors.New("idempotency key reused")
	ErrUnavailable          = errors.New("unavailable")
)

// FieldError names one offending field and why it was refused.
type FieldError struct {
	Field  string
	Reason string
}

// Error is a failure with a message that is safe to show the caller.
type Error struct {
	Kind    error
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s (%s: %s)", e.Message, e.Fields[0].Field, e.Fields[0].Reason)
}

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// New returns an error of the given kind with a caller-safe message.
func New(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an ErrInvalid error listing the offending fields.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Kind: ErrInvalid, Message: message, Fields: fields}
}

// Field is shorthand for a FieldError.
func Field(field, format string, args ...any) FieldError {
	return FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NotFound returns an ErrNotFound error for a named resource.
func NotFound(resource, name string) *Error {
	return New(ErrNotFound, "%s %q not found", resource, name)
}

// Denied returns an ErrPermissionDenied error.
func Denied(format string, args ...any) *Error {
	return New(ErrPermissionDenied, format, args...)
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}
