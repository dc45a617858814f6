package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// EnvVersitygw names the versitygw binary (versitygw.sh --print-bin prints
// it; the Makefile's S3_ENV sets it).
const EnvVersitygw = "MLPORTAL_VERSITYGW"

const s3Hint = "build it with `make versitygw` (bash internal/testenv/versitygw.sh) and export " + EnvVersitygw +
	"=$(bash internal/testenv/versitygw.sh --print-bin) (the Makefile's S3_ENV does this); see docs/testing.md"

// S3Server is a running S3-compatible server (versitygw over a directory)
// with one empty bucket.
type S3Server struct {
	Endpoint        string // http://127.0.0.1:PORT
	Region          string
	Bucket          string
	AccessKeyID     string
	SecretAccessKey string
	// Dir is the posix backend's root: the bucket is Dir/Bucket and each
	// object a file under it, so tests can damage bytes behind the server.
	Dir string
}

// Client returns a minio-go client for the server, for a test's own
// set-up and inspection.
func (s S3Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint[len("http://"):], &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKeyID, s.SecretAccessKey, ""),
		Region:       s.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("testenv: S3 client: %v", err)
	}
	return c
}

// S3 starts versitygw for t (posix backend over a temporary directory,
// random free loopback port, random keys), waits until it answers, creates
// a bucket and returns where it is. The server is killed when t ends. It
// skips under -short and fails t when the binary is missing or the server
// does not start.
func S3(t testing.TB) S3Server {
	t.Helper()
	skipUnitTier(t, "versitygw (S3)")
	bin := os.Getenv(EnvVersitygw)
	if bin == "" {
		t.Fatalf("testenv: %s is not set; %s", EnvVersitygw, s3Hint)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("testenv: versitygw binary %s: %v; %s", bin, err, s3Hint)
	}
	srv := S3Server{
		Region:          "us-east-1",
		Bucket:          "mlportal-test",
		AccessKeyID:     "AK" + randomHex(9),
		SecretAccessKey: randomHex(20),
		Dir:             filepath.Join(t.TempDir(), "s3"),
	}
	logDir := t.TempDir()
	if err := os.MkdirAll(srv.Dir, 0o755); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	ports, err := freePorts(1)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	srv.Endpoint = "http://" + addr
	// The keys are random and die with the server, so argv is fine.
	c, err := startComponent("versitygw", bin, []string{
		"--port", addr, "--region", srv.Region, "--access", srv.AccessKeyID, "--secret", srv.SecretAccessKey,
		"--quiet", "posix", srv.Dir,
	}, logDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	// Any HTTP answer means it serves; an unsigned request gets 403.
	probe := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.Endpoint+"/", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	if err := c.waitReady(60*time.Second, probe); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Client(t).MakeBucket(ctx, srv.Bucket, minio.MakeBucketOptions{Region: srv.Region}); err != nil {
		t.Fatalf("testenv: create bucket %s on versitygw: %v\n--- last lines of %s ---\n%s", srv.Bucket, err, c.logPath, tail(c.logPath, 30))
	}
	return srv
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
