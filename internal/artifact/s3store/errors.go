package s3store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/minio/minio-go/v7"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/fault"
)

// mapErr turns an S3 or transport failure into a fault a user or operator
// can act on, keeping the original for the log; op is what was attempted
// ("upload", "read", "list", "delete", "check").
func (s *Store) mapErr(err error, path, op string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey:
		return artifact.WithCause(fault.NotFound("artifact", path), err)
	case minio.NoSuchBucket:
		return s.noBucket(err)
	case "KeyTooLongError":
		return artifact.WithCause(fault.Invalid("artifact path "+fmt.Sprintf("%q", path)+" is too long for this store",
			fault.Field("path", "must be at most %d bytes together with the store's key prefix %q", artifact.MaxPathBytes, s.prefix)), err)
	case minio.AccessDenied, "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
		"InvalidToken", "TokenRefreshRequired", "InvalidSecurity",
		"XAdminUserNotFound": // versitygw's answer (404) to an unknown access key
		return artifact.WithCause(fault.New(fault.ErrUnavailable,
			"the S3 artifact store at %s refused mlportal's credentials (%s) for bucket %q: an administrator must check %s and %s "+
				"(or, when both are empty, the AWS credentials of the server's environment) and that they may read, write and list %q",
			s.endpoint, resp.Code, s.bucket, field("accessKeyId"), field("secretAccessKey"), s.bucket+"/"+s.prefix), err)
	case "AuthorizationHeaderMalformed", "InvalidRegion", "IllegalLocationConstraintException", "PermanentRedirect":
		return artifact.WithCause(fault.New(fault.ErrUnavailable,
			"the S3 artifact store at %s rejected the region (%s): an administrator must set %s to bucket %q's region",
			s.endpoint, resp.Code, field("region"), s.bucket), err)
	case "SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError":
		return artifact.WithCause(fault.New(fault.ErrUnavailable,
			"the S3 artifact store at %s is busy or failing (%s); try again in a moment", s.endpoint, resp.Code), err)
	}
	var nerr net.Error
	var uerr *url.Error
	if errors.As(err, &nerr) || errors.As(err, &uerr) {
		return artifact.WithCause(fault.New(fault.ErrUnavailable,
			"cannot reach the S3 artifact store at %s; if it persists, an administrator must check %s and the network path to it",
			s.endpoint, field("endpoint")), err)
	}
	if path == "" {
		return fmt.Errorf("%s S3 artifact store: %w", op, err)
	}
	return fmt.Errorf("%s artifact %q: %w", op, path, err)
}

func (s *Store) noBucket(cause error) error {
	return artifact.WithCause(fault.New(fault.ErrUnavailable,
		"the artifact bucket %q does not exist at %s: an administrator must create it or fix %s (and %s)",
		s.bucket, s.endpoint, field("bucket"), field("endpoint")), cause)
}
