package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/artifact/artifacttest"
	"github.com/mlportal/mlportal/internal/artifact/s3store"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/testenv"
)

const prefix = "mlportal/artifacts"

func config(srv testenv.S3Server) s3store.Config {
	return s3store.Config{
		Endpoint:        srv.Endpoint,
		Region:          srv.Region,
		Bucket:          srv.Bucket,
		Prefix:          prefix,
		AccessKeyID:     srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey,
		PathStyle:       true,
	}
}

func newStore(t testing.TB, cfg s3store.Config) *s3store.Store {
	t.Helper()
	s, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the suite against a real versitygw per subtest. The
// corruption hook flips a byte of the object's file in versitygw's posix
// backend, as failing storage would, leaving its metadata alone.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	servers := map[artifact.Store]testenv.S3Server{}
	artifacttest.Run(t, func(t *testing.T) artifact.Store {
		srv := testenv.S3(t)
		s := newStore(t, config(srv))
		mu.Lock()
		servers[s] = srv
		mu.Unlock()
		return s
	}, artifacttest.WithCorrupt(func(t *testing.T, s artifact.Store, path string) {
		mu.Lock()
		srv := servers[s]
		mu.Unlock()
		flipByte(t, filepath.Join(srv.Dir, srv.Bucket, filepath.FromSlash(prefix+"/"+path)))
	}))
}

func flipByte(t *testing.T, file string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("corrupt: %v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x55
	if _, err := f.WriteAt(b, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// bucketKeys lists every key in the bucket, the store's own included.
func bucketKeys(t *testing.T, srv testenv.S3Server) []string {
	t.Helper()
	var keys []string
	for o := range srv.Client(t).ListObjects(context.Background(), srv.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func TestLayoutAndMetadata(t *testing.T) {
	srv := testenv.S3(t)
	s := newStore(t, config(srv))
	ctx := context.Background()
	small := []byte("{}")
	obj, err := s.Put(ctx, "run/metrics.json", bytes.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	big := artifacttest.NewDeterministicReader(1, s3store.SinglePutMax+3<<20) // past the single-PUT buffer
	bigObj, err := s.Put(ctx, "run/model.bin", big)
	if err != nil {
		t.Fatal(err)
	}
	// Both objects sit under the prefix, staging leaves nothing behind.
	if diff := cmp.Diff([]string{prefix + "/run/metrics.json", prefix + "/run/model.bin"}, bucketKeys(t, srv)); diff != "" {
		t.Errorf("bucket keys (-want +got):\n%s", diff)
	}
	// The digest is the object's user metadata, as other tools see it.
	for _, o := range []artifact.Object{obj, bigObj} {
		info, err := srv.Client(t).StatObject(ctx, srv.Bucket, prefix+"/"+o.Path, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Metadata.Get("X-Amz-Meta-Mlportal-Sha256"); got != o.Digest {
			t.Errorf("%s: x-amz-meta-mlportal-sha256 = %q, want %q", o.Path, got, o.Digest)
		}
		if info.Size != o.Size {
			t.Errorf("%s: size %d, want %d", o.Path, info.Size, o.Size)
		}
	}
}

func TestFailedLargePutLeavesNoStaging(t *testing.T) {
	srv := testenv.S3(t)
	s := newStore(t, config(srv))
	errGone := errors.New("client went away")
	body := io.MultiReader(artifacttest.NewDeterministicReader(2, 40<<20), errReader{errGone})
	if _, err := s.Put(context.Background(), "m/model.bin", body); !errors.Is(err, errGone) {
		t.Fatalf("Put: %v, want the reader's error", err)
	}
	if keys := bucketKeys(t, srv); len(keys) != 0 {
		t.Errorf("bucket after a failed large Put has %v, want nothing", keys)
	}
	uploads := srv.Client(t).ListIncompleteUploads(context.Background(), srv.Bucket, "", true)
	for u := range uploads {
		if u.Err == nil {
			t.Errorf("incomplete upload left behind: %s", u.Key)
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestPrefixIsolation(t *testing.T) {
	srv := testenv.S3(t)
	ctx := context.Background()
	if _, err := srv.Client(t).PutObject(ctx, srv.Bucket, "elsewhere.txt", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client(t).PutObject(ctx, srv.Bucket, prefix+"/.mlportal-staging/leftover", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, config(srv))
	if _, err := s.Put(ctx, "a.txt", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	es, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]artifact.Entry{{Path: "a.txt", Size: 1}}, es); diff != "" {
		t.Errorf("List(root) (-want +got):\n%s", diff)
	}
	// The whole bucket as the root: the prefix is a directory.
	cfg := config(srv)
	cfg.Prefix = ""
	root := newStore(t, cfg)
	es, err = root.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]artifact.Entry{{Path: "elsewhere.txt", Size: 1}, {Path: "mlportal", IsDir: true}}, es); diff != "" {
		t.Errorf("List(bucket root) (-want +got):\n%s", diff)
	}
	// An object another tool wrote, without the digest, cannot be verified.
	_, err = root.Stat(ctx, "elsewhere.txt")
	if !errors.Is(err, fault.ErrUnavailable) || !strings.Contains(err.Error(), "re-upload") {
		t.Errorf("Stat of an object without digest metadata: %v, want unavailable saying to re-upload", err)
	}
}

func TestDefaultCredentialChain(t *testing.T) {
	srv := testenv.S3(t)
	// The chain's first link: the AWS_* environment (later links, the
	// shared file and the instance role, are not reached).
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretAccessKey)
	cfg := config(srv)
	cfg.AccessKeyID, cfg.SecretAccessKey = "", ""
	s := newStore(t, cfg)
	if _, err := s.Put(context.Background(), "x", strings.NewReader("x")); err != nil {
		t.Fatalf("Put with credentials from the environment: %v", err)
	}
}

func TestErrorsNameWhatToFix(t *testing.T) {
	srv := testenv.S3(t)
	ctx := context.Background()
	closed := func() string { // a loopback port nobody listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	for _, tc := range []struct {
		name  string
		edit  func(*s3store.Config)
		wants []string
	}{
		{"wrong secret", func(c *s3store.Config) { c.SecretAccessKey = "wrong" },
			[]string{"refused mlportal's credentials", "mlportal.artifacts.s3.accessKeyId", "mlportal.artifacts.s3.secretAccessKey"}},
		{"unknown key", func(c *s3store.Config) { c.AccessKeyID = "AKNOBODY" },
			[]string{"refused mlportal's credentials", "mlportal.artifacts.s3.accessKeyId"}},
		{"missing bucket", func(c *s3store.Config) { c.Bucket = "no-such-bucket" },
			[]string{`"no-such-bucket" does not exist`, "mlportal.artifacts.s3.bucket"}},
		{"unreachable endpoint", func(c *s3store.Config) { c.Endpoint = closed },
			[]string{"cannot reach", "mlportal.artifacts.s3.endpoint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(srv)
			tc.edit(&cfg)
			s, err := s3store.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			errs := map[string]error{"Check": s.Check(ctx)}
			_, errs["Put"] = s.Put(ctx, "a/b", strings.NewReader("x"))
			_, errs["Stat"] = s.Stat(ctx, "a/b")
			_, _, errs["Open"] = s.Open(ctx, "a/b")
			_, errs["List"] = s.List(ctx, "a")
			errs["Delete"] = s.Delete(ctx, "a")
			for op, err := range errs {
				if !errors.Is(err, fault.ErrUnavailable) {
					t.Errorf("%s: %v, want fault.ErrUnavailable", op, err)
					continue
				}
				for _, w := range tc.wants {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %q does not mention %q", op, err, w)
					}
				}
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		cfg   s3store.Config
		field string
	}{
		{s3store.Config{Bucket: "b"}, "mlportal.artifacts.s3.endpoint"},
		{s3store.Config{Endpoint: "s3.amazonaws.com", Bucket: "b"}, "mlportal.artifacts.s3.endpoint"},
		{s3store.Config{Endpoint: "https://h/bucket", Bucket: "b"}, "mlportal.artifacts.s3.endpoint"},
		{s3store.Config{Endpoint: "https://h"}, "mlportal.artifacts.s3.bucket"},
		{s3store.Config{Endpoint: "https://h", Bucket: "b", Prefix: "/abs"}, "mlportal.artifacts.s3.prefix"},
		{s3store.Config{Endpoint: "https://h", Bucket: "b", Prefix: "a/../b"}, "mlportal.artifacts.s3.prefix"},
		{s3store.Config{Endpoint: "https://h", Bucket: "b", AccessKeyID: "k"}, "mlportal.artifacts.s3.accessKeyId"},
		{s3store.Config{Endpoint: "https://h", Bucket: "b", PartSize: 1 << 20}, "mlportal.artifacts.s3.partSize"},
	} {
		_, err := s3store.New(tc.cfg)
		fe, ok := fault.As(err)
		if !ok || !errors.Is(err, fault.ErrInvalid) || len(fe.Fields) == 0 || fe.Fields[0].Field != tc.field {
			t.Errorf("New(%+v) = %v, want invalid %s", tc.cfg, err, tc.field)
		}
	}
	for _, p := range []string{"", "mlportal", "mlportal/", "a/b/c/"} {
		if _, err := s3store.New(s3store.Config{Endpoint: "https://s3.example.com", Bucket: "b", Prefix: p}); err != nil {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	artifacttest.BenchmarkPut(b, newStore(b, config(testenv.S3(b))))
}

func BenchmarkOpen(b *testing.B) {
	artifacttest.BenchmarkOpen(b, newStore(b, config(testenv.S3(b))))
}

// Bodies of exactly SinglePutMax bytes take one PUT; one byte more takes the
// multipart upload and the copy. Both read back whole.
func TestSinglePutBoundary(t *testing.T) {
	srv := testenv.S3(t)
	s := newStore(t, config(srv))
	ctx := context.Background()
	for _, n := range []int64{s3store.SinglePutMax - 1, s3store.SinglePutMax, s3store.SinglePutMax + 1} {
		path := "b/" + strconv.FormatInt(n, 10)
		obj, err := s.Put(ctx, path, artifacttest.NewDeterministicReader(uint64(n), n))
		if err != nil {
			t.Fatalf("Put %d bytes: %v", n, err)
		}
		d := artifact.NewDigestWriter(nil)
		io.Copy(d, artifacttest.NewDeterministicReader(uint64(n), n))
		if obj.Size != n || obj.Digest != d.Digest() {
			t.Errorf("Put %d bytes = %d %s, want %s", n, obj.Size, obj.Digest, d.Digest())
		}
		rc, _, err := s.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got := artifact.NewDigestWriter(nil)
		_, err = io.Copy(got, rc)
		rc.Close()
		if err != nil || got.Digest() != d.Digest() {
			t.Errorf("read back %d bytes: %s, %v", n, got.Digest(), err)
		}
	}
	if keys := bucketKeys(t, srv); len(keys) != 3 {
		t.Errorf("bucket keys = %v, want the three objects only", keys)
	}
}
