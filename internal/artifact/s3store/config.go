package s3store

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
)

// ConfigKey is the configuration section the keys named in error messages
// live in (mlportal.artifacts.s3.endpoint, .bucket, ...). The composition
// root fills Config from it.
const ConfigKey = "mlportal.artifacts.s3"

// Sizes of the upload path; see the package doc.
const (
	// SinglePutMax is the largest body sent as one PutObject; larger ones
	// go through a multipart upload and a server-side copy.
	SinglePutMax = 8 << 20
	// DefaultPartSize is the multipart part size when Config.PartSize is 0:
	// 16 MiB parts reach S3's 10,000-part limit at 156 GiB.
	DefaultPartSize = 16 << 20
	// minPartSize is S3's smallest part (all but the last).
	minPartSize = 5 << 20
)

// Config says where the artifacts live and how to authenticate.
type Config struct {
	// Endpoint is the server's URL: https://s3.eu-west-1.amazonaws.com,
	// http://minio.storage:9000. No path.
	Endpoint string
	// Region is the bucket's region; "" lets the client ask the server.
	Region string
	// Bucket must exist; the store does not create it.
	Bucket string
	// Prefix is prepended to every key, e.g. "mlportal/artifacts"; a
	// trailing "/" is implied. "" uses the whole bucket.
	Prefix string
	// AccessKeyID and SecretAccessKey are static credentials. Leave both
	// empty to use the default AWS chain: the AWS_* environment variables,
	// the shared credentials file, then the instance or pod role (IAM,
	// web identity).
	AccessKeyID     string
	SecretAccessKey string
	// PathStyle addresses the bucket as endpoint/bucket/key (MinIO, Ceph,
	// versitygw) instead of bucket.endpoint/key. When false the client picks
	// virtual-hosted style where the endpoint supports it (AWS) and path
	// style elsewhere.
	PathStyle bool
	// PartSize is the multipart part size for large uploads (default
	// DefaultPartSize, at least 5 MiB). Each large upload in flight holds
	// one part in memory.
	PartSize int64
	// Transport overrides the HTTP transport (tests, custom CAs); nil uses
	// minio-go's default.
	Transport http.RoundTripper
	// Clock dates uploads whose response carries no Last-Modified; nil is
	// the system clock.
	Clock clock.Clock
}

func field(name string) string { return ConfigKey + "." + name }

// validate checks c and returns the parsed endpoint and the normalized key
// prefix ("" or ending in "/").
func (c Config) validate() (*url.URL, string, error) {
	var fields []fault.FieldError
	u, err := url.Parse(c.Endpoint)
	switch {
	case c.Endpoint == "":
		fields = append(fields, fault.Field(field("endpoint"), "is required, e.g. https://s3.eu-west-1.amazonaws.com"))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		fields = append(fields, fault.Field(field("endpoint"), "must be an http:// or https:// URL with a host, e.g. https://s3.eu-west-1.amazonaws.com"))
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil:
		fields = append(fields, fault.Field(field("endpoint"), "must have no path, query or user info: put the bucket in bucket and key prefixes in prefix"))
	}
	if c.Bucket == "" {
		fields = append(fields, fault.Field(field("bucket"), "is required"))
	}
	prefix := strings.TrimSuffix(c.Prefix, "/")
	if prefix != "" {
		if _, err := artifact.CleanPath(prefix); err != nil {
			fields = append(fields, fault.Field(field("prefix"), "must be a relative key prefix such as mlportal/artifacts (no leading '/', no empty, '.' or '..' elements)"))
		}
		prefix += "/"
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		fields = append(fields, fault.Field(field("accessKeyId"), "and %s must be set together, or both left empty to use the default AWS credential chain", field("secretAccessKey")))
	}
	if c.PartSize != 0 && c.PartSize < minPartSize {
		fields = append(fields, fault.Field(field("partSize"), "must be at least 5MiB (S3's smallest part)"))
	}
	if len(fields) > 0 {
		return nil, "", fault.Invalid("the S3 artifact store configuration is not valid", fields...)
	}
	return u, prefix, nil
}
