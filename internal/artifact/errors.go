package artifact

import "github.com/mlportal/mlportal/internal/fault"

// WithCause returns an error that reads as fe (its safe, actionable message)
// and also unwraps to cause, so the log and errors.Is keep the underlying
// failure (a syscall error, an S3 error response) that the message explains.
func WithCause(fe *fault.Error, cause error) error {
	if cause == nil {
		return fe
	}
	return &causedError{fe: fe, cause: cause}
}

type causedError struct {
	fe    *fault.Error
	cause error
}

func (e *causedError) Error() string   { return e.fe.Error() }
func (e *causedError) Unwrap() []error { return []error{e.fe, e.cause} }
