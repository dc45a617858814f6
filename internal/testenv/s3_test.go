package testenv_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/mlportal/mlportal/internal/testenv"
)

func TestS3(t *testing.T) {
	srv := testenv.S3(t)
	c := srv.Client(t)
	ctx := context.Background()
	if ok, err := c.BucketExists(ctx, srv.Bucket); err != nil || !ok {
		t.Fatalf("bucket %s exists = %v, %v", srv.Bucket, ok, err)
	}
	if _, err := c.PutObject(ctx, srv.Bucket, "a/b.txt", strings.NewReader("hello"), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	o, err := c.GetObject(ctx, srv.Bucket, "a/b.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil || string(b) != "hello" {
		t.Fatalf("GetObject = %q, %v", b, err)
	}
}
