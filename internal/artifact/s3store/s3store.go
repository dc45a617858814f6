package s3store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
)

// digestMeta is the user-metadata key of the digest
// (x-amz-meta-mlportal-sha256 on the wire).
const digestMeta = "mlportal-sha256"

const stagingDir = artifact.ReservedPrefix + "staging"

// Store is an artifact.Store over one bucket and key prefix. It is safe for
// concurrent use, also by several servers sharing the bucket.
type Store struct {
	client   *minio.Client
	core     minio.Core // for one-request GETs
	bucket   string
	prefix   string // "" or ending in "/"
	endpoint string // for messages
	partSize uint64
	clock    clock.Clock
	// bucketSeen is set once a request showed the bucket and credentials
	// working; see Stat.
	bucketSeen atomic.Bool
}

var _ artifact.Store = (*Store)(nil)

// New returns a store for cfg. It does no I/O; call Check to find
// configuration mistakes at startup rather than at the first upload.
func New(cfg Config) (*Store, error) {
	u, prefix, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	creds := credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	if cfg.AccessKeyID == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        creds,
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
		// A user waits on these calls: a few quick retries, not minutes.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fault.Invalid("the S3 artifact store configuration is not valid",
			fault.Field(field("endpoint"), "%v", err))
	}
	part := uint64(DefaultPartSize)
	if cfg.PartSize > 0 {
		part = uint64(cfg.PartSize)
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	s := &Store{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, prefix: prefix,
		endpoint: u.Scheme + "://" + u.Host, partSize: part, clock: clk}
	return s, nil
}

// Check verifies that the endpoint answers, the credentials are accepted,
// the bucket exists and may be listed, with a message naming the
// configuration key to fix. It lists at most one key (a GET, whose error
// body says what is wrong, where a HEAD would only say 404 or 403).
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, MaxKeys: 1}) {
		if o.Err != nil {
			return s.mapErr(o.Err, "", "check")
		}
		break
	}
	s.bucketSeen.Store(true)
	return nil
}

func (s *Store) key(path string) string { return s.prefix + path }

// Put streams r to path; see artifact.Store and the package doc.
func (s *Store) Put(ctx context.Context, path string, r io.Reader) (artifact.Object, error) {
	if _, err := artifact.CleanPath(path); err != nil {
		return artifact.Object{}, err
	}
	dr := artifact.NewDigestReader(artifact.ContextReader(ctx, r))
	head, whole, err := readHead(dr)
	if err != nil {
		return artifact.Object{}, s.mapErr(err, path, "upload")
	}
	if whole {
		return s.putSmall(ctx, path, head, dr.Digest())
	}
	return s.putLarge(ctx, path, io.MultiReader(bytes.NewReader(head), dr), dr)
}

// readHead reads r until EOF or until it has more than SinglePutMax bytes.
// The buffer grows with the body (a small artifact costs its size) and
// never past SinglePutMax+1 bytes. whole reports that r ended.
func readHead(r io.Reader) (head []byte, whole bool, err error) {
	buf := make([]byte, 0, 32<<10)
	for len(buf) <= SinglePutMax {
		if len(buf) == cap(buf) {
			next := make([]byte, len(buf), min(2*cap(buf), SinglePutMax+1))
			copy(next, buf)
			buf = next
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, true, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	return buf, false, nil
}

func (s *Store) putOptions(digest string) minio.PutObjectOptions {
	return minio.PutObjectOptions{
		ContentType:  "application/octet-stream",
		UserMetadata: map[string]string{digestMeta: digest},
		PartSize:     s.partSize,
	}
}

// putSmall uploads a body that fits the buffer in one request.
func (s *Store) putSmall(ctx context.Context, path string, body []byte, digest string) (artifact.Object, error) {
	info, err := s.client.PutObject(ctx, s.bucket, s.key(path), bytes.NewReader(body), int64(len(body)), s.putOptions(digest))
	if err != nil {
		return artifact.Object{}, s.mapErr(err, path, "upload")
	}
	return artifact.Object{Path: path, Size: int64(len(body)), Digest: digest, Modified: s.modified(info.LastModified)}, nil
}

// putLarge streams body to a staging key as a multipart upload of unknown
// size, then copies it onto the final key with the digest dr computed.
func (s *Store) putLarge(ctx context.Context, path string, body io.Reader, dr *artifact.DigestReader) (artifact.Object, error) {
	staging := s.prefix + stagingDir + "/" + randomName()
	opts := s.putOptions("")
	opts.UserMetadata = nil
	up, err := s.client.PutObject(ctx, s.bucket, staging, body, -1, opts)
	if err != nil {
		return artifact.Object{}, s.mapErr(err, path, "upload")
	}
	defer func() {
		// Remove the staging object even if ctx is done by now.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = s.client.RemoveObject(rctx, s.bucket, staging, minio.RemoveObjectOptions{})
	}()
	digest, size := dr.Digest(), dr.Size()
	if up.Size != size {
		return artifact.Object{}, fmt.Errorf("upload artifact %q: the server stored %d bytes of %d", path, up.Size, size)
	}
	info, err := s.client.ComposeObject(ctx,
		minio.CopyDestOptions{
			Bucket:          s.bucket,
			Object:          s.key(path),
			UserMetadata:    map[string]string{digestMeta: digest},
			ReplaceMetadata: true,
			ContentType:     "application/octet-stream",
			PartSize:        s.copyPartSize(),
		},
		minio.CopySrcOptions{Bucket: s.bucket, Object: staging, MatchETag: up.ETag},
	)
	if err != nil {
		return artifact.Object{}, s.mapErr(err, path, "upload")
	}
	return artifact.Object{Path: path, Size: size, Digest: digest, Modified: s.modified(info.LastModified)}, nil
}

// copyPartSize is the part size of a multipart server-side copy (objects
// over 5 GiB): at least the upload's, at most S3's 5 GiB.
func (s *Store) copyPartSize() uint64 {
	return max(s.partSize, 512<<20)
}

func randomName() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// modified is the object's time, or now when the server did not say (some
// servers omit Last-Modified from upload responses).
func (s *Store) modified(t time.Time) time.Time {
	if t.IsZero() {
		return s.clock.Now().UTC()
	}
	return t
}

// Open streams the object, verified against its digest at EOF.
func (s *Store) Open(ctx context.Context, path string) (io.ReadCloser, artifact.Object, error) {
	if _, err := artifact.CleanPath(path); err != nil {
		return nil, artifact.Object{}, err
	}
	// One GET gives the metadata and the body, so they belong together
	// (minio.Client.GetObject would HEAD first and then GET If-Match, which
	// fails if the object is replaced in between).
	o, info, _, err := s.core.GetObject(ctx, s.bucket, s.key(path), minio.GetObjectOptions{})
	if err != nil {
		return nil, artifact.Object{}, s.mapErr(err, path, "read")
	}
	s.bucketSeen.Store(true)
	obj, err := s.object(path, info)
	if err != nil {
		o.Close()
		return nil, artifact.Object{}, err
	}
	return artifact.NewVerifyingReader(o, path, obj.Digest, obj.Size), obj, nil
}

// Stat returns the object's metadata.
func (s *Store) Stat(ctx context.Context, path string) (artifact.Object, error) {
	if _, err := artifact.CleanPath(path); err != nil {
		return artifact.Object{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.key(path), minio.StatObjectOptions{})
	if err != nil {
		// A HEAD response has no body, so a missing bucket or (on some
		// servers) an unknown access key looks like a missing object.
		// Until the bucket has been seen working, ask once more with a GET.
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey && !s.bucketSeen.Load() {
			if cerr := s.Check(ctx); cerr != nil {
				return artifact.Object{}, cerr
			}
		}
		return artifact.Object{}, s.mapErr(err, path, "read")
	}
	s.bucketSeen.Store(true)
	return s.object(path, info)
}

func (s *Store) object(path string, info minio.ObjectInfo) (artifact.Object, error) {
	var digest string
	for k, v := range info.UserMetadata {
		if strings.EqualFold(k, digestMeta) {
			digest = v
		}
	}
	if !artifact.ValidDigest(digest) {
		return artifact.Object{}, fault.New(fault.ErrUnavailable,
			"artifact %q has no valid digest metadata (x-amz-meta-%s), so its content cannot be verified; re-upload the artifact", path, digestMeta)
	}
	return artifact.Object{Path: path, Size: info.Size, Digest: digest, Modified: info.LastModified}, nil
}

// List returns the direct children of dir, sorted by path.
func (s *Store) List(ctx context.Context, dir string) ([]artifact.Entry, error) {
	if _, err := artifact.CleanDir(dir); err != nil {
		return nil, err
	}
	prefix, base := s.prefix, ""
	if dir != "" {
		prefix, base = s.key(dir)+"/", dir+"/"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister if we return early
	out := []artifact.Entry{}
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if o.Err != nil {
			return nil, s.mapErr(o.Err, dir, "list")
		}
		name, isDir := strings.CutSuffix(strings.TrimPrefix(o.Key, prefix), "/")
		if name == "" || strings.HasPrefix(name, artifact.ReservedPrefix) {
			continue // a "directory marker" object, or the store's own
		}
		e := artifact.Entry{Path: base + name, IsDir: isDir}
		if !isDir {
			e.Size = o.Size
		}
		out = append(out, e)
	}
	// S3 sorts by key, where "a/" follows "a.txt"; callers want path order.
	slices.SortStableFunc(out, func(a, b artifact.Entry) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Delete removes the object at path and every object under path/.
func (s *Store) Delete(ctx context.Context, path string) error {
	if _, err := artifact.CleanPath(path); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(path), minio.RemoveObjectOptions{}); err != nil &&
		minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return s.mapErr(err, path, "delete")
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var listErr error
	objs := make(chan minio.ObjectInfo)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(objs)
		for o := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(path) + "/", Recursive: true}) {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			select {
			case objs <- o:
			case <-lctx.Done():
				return
			}
		}
	}()
	var rmErr error
	for e := range s.client.RemoveObjects(lctx, s.bucket, objs, minio.RemoveObjectsOptions{}) {
		if rmErr == nil && minio.ToErrorResponse(e.Err).Code != minio.NoSuchKey {
			rmErr = e.Err
			cancel()
		}
	}
	cancel()
	<-done // listErr is ours now
	if rmErr != nil {
		return s.mapErr(rmErr, path, "delete")
	}
	if listErr != nil {
		return s.mapErr(listErr, path, "delete")
	}
	return nil
}
