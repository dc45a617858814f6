package app

import (
	"context"
	"fmt"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/artifact/fsstore"
	"github.com/mlportal/mlportal/internal/artifact/s3store"
	"github.com/mlportal/mlportal/internal/config"
)

// newArtifacts opens the configured artifact store (mlportal.artifacts):
// files under a directory, or an S3-compatible bucket, checked once at
// start-up so that a wrong endpoint, key or bucket stops the server with
// the key to fix rather than failing the first upload.
func newArtifacts(ctx context.Context, cfg config.Config) (artifact.Store, error) {
	a := cfg.Artifacts
	if a.Backend == "s3" {
		st, err := s3store.New(s3store.Config{Endpoint: a.S3.Endpoint, Region: a.S3.Region, Bucket: a.S3.Bucket, Prefix: a.S3.Prefix,
			AccessKeyID: a.S3.AccessKeyID, SecretAccessKey: a.S3.SecretAccessKey, PathStyle: a.S3.PathStyle, PartSize: int64(a.S3.PartSize)})
		if err != nil {
			return nil, fmt.Errorf("mlportal.artifacts.s3: %w", err)
		}
		if err := st.Check(ctx); err != nil {
			return nil, fmt.Errorf("mlportal.artifacts.s3: %w", err)
		}
		return st, nil
	}
	st, err := fsstore.New(a.FS.Root)
	if err != nil {
		return nil, fmt.Errorf("mlportal.artifacts.fs.root %s: %w", a.FS.Root, err)
	}
	return st, nil
}
