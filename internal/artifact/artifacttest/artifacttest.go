// Package artifacttest is the conformance suite every artifact.Store
// implementation must pass: round trips with size and digest, replace,
// listing, deletion, path validation, concurrent writers, failed writes that
// leave nothing behind, corruption detected on read and a large object
// streamed with bounded memory.
//
// It runs against a real store given by the caller (a directory, an
// S3-compatible server); it contains no store of its own and no fakes. It
// does not test what the interface leaves open: Modified times beyond being
// set, or whether a path may be both a file and a directory (S3 allows it,
// a filesystem does not).
package artifacttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/fault"
)

// Option configures Run.
type Option func(*options)

type options struct {
	corrupt   func(t *testing.T, s artifact.Store, path string)
	largeSize int64
}

// WithCorrupt gives the suite a way to damage the stored bytes of the object
// at path behind the store's back (as a failing disk would), keeping the
// recorded digest. Without it the corruption test is skipped.
func WithCorrupt(f func(t *testing.T, s artifact.Store, path string)) Option {
	return func(o *options) { o.corrupt = f }
}

// WithLargeSize sets the size of the large-object test (default 256 MiB).
func WithLargeSize(n int64) Option {
	return func(o *options) { o.largeSize = n }
}

// Run runs the conformance suite. newStore returns a new, empty store for
// each subtest; it registers its own cleanup on t.
func Run(t *testing.T, newStore func(t *testing.T) artifact.Store, opts ...Option) {
	o := options{largeSize: 256 << 20}
	for _, f := range opts {
		f(&o)
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s artifact.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"Replace", testReplace},
		{"List", testList},
		{"ListMissingAndFile", testListMissing},
		{"DeleteFile", testDeleteFile},
		{"DeleteDirectory", testDeleteDirectory},
		{"BadPaths", testBadPaths},
		{"ConcurrentDistinctPaths", testConcurrentDistinct},
		{"ConcurrentSamePath", testConcurrentSame},
		{"FailedPutLeavesNothing", testFailedPut},
		{"FailedReplaceKeepsOld", testFailedReplace},
		{"CancelledPut", testCancelledPut},
		{"Corruption", func(t *testing.T, s artifact.Store) { testCorruption(t, s, o.corrupt) }},
		{"LargeObjectBoundedMemory", func(t *testing.T, s artifact.Store) { testLarge(t, s, o.largeSize) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return artifact.DigestPrefix + hex.EncodeToString(s[:])
}

func put(t *testing.T, s artifact.Store, path string, content []byte) artifact.Object {
	t.Helper()
	obj, err := s.Put(context.Background(), path, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("Put(%q): %v", path, err)
	}
	return obj
}

// readAll opens path and reads it whole, returning the content and the
// object Open reported.
func readAll(t *testing.T, s artifact.Store, path string) ([]byte, artifact.Object) {
	t.Helper()
	rc, obj, err := s.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", path, err)
	}
	return b, obj
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want one wrapping %v", what, err, kind)
	}
	if _, ok := fault.As(err); !ok {
		t.Fatalf("%s: error %v is not a *fault.Error (its message must be safe to show)", what, err)
	}
}

func list(t *testing.T, s artifact.Store, dir string) []artifact.Entry {
	t.Helper()
	es, err := s.List(context.Background(), dir)
	if err != nil {
		t.Fatalf("List(%q): %v", dir, err)
	}
	return es
}

func checkObject(t *testing.T, what string, got artifact.Object, path string, content []byte) {
	t.Helper()
	if got.Path != path || got.Size != int64(len(content)) || got.Digest != digestOf(content) {
		t.Errorf("%s = {Path:%q Size:%d Digest:%s}, want {Path:%q Size:%d Digest:%s}",
			what, got.Path, got.Size, got.Digest, path, len(content), digestOf(content))
	}
	if got.Modified.IsZero() {
		t.Errorf("%s: Modified is zero", what)
	}
}

func testRoundTrip(t *testing.T, s artifact.Store) {
	ctx := context.Background()
	content := []byte("weights: 0.1 0.2 0.3\n")
	path := "1/abc/artifacts/model/model.txt"
	obj := put(t, s, path, content)
	checkObject(t, "Put", obj, path, content)

	got, oobj := readAll(t, s, path)
	if !bytes.Equal(got, content) {
		t.Errorf("Open read %q, want %q", got, content)
	}
	checkObject(t, "Open", oobj, path, content)

	st, err := s.Stat(ctx, path)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkObject(t, "Stat", st, path, content)

	_, err = s.Stat(ctx, "1/abc/missing.txt")
	wantKind(t, "Stat of a missing object", err, fault.ErrNotFound)
	_, _, err = s.Open(ctx, "1/abc/missing.txt")
	wantKind(t, "Open of a missing object", err, fault.ErrNotFound)
	_, err = s.Stat(ctx, "1/abc")
	wantKind(t, "Stat of a directory", err, fault.ErrNotFound)
}

func testEmptyObject(t *testing.T, s artifact.Store) {
	obj := put(t, s, "empty", nil)
	checkObject(t, "Put", obj, "empty", nil)
	got, oobj := readAll(t, s, "empty")
	if len(got) != 0 {
		t.Errorf("read %d bytes, want 0", len(got))
	}
	checkObject(t, "Open", oobj, "empty", nil)
}

func testReplace(t *testing.T, s artifact.Store) {
	put(t, s, "a/b.txt", []byte("first version, longer than the second"))
	second := []byte("second")
	obj := put(t, s, "a/b.txt", second)
	checkObject(t, "Put (replace)", obj, "a/b.txt", second)
	got, oobj := readAll(t, s, "a/b.txt")
	if !bytes.Equal(got, second) {
		t.Errorf("after replace read %q, want %q", got, second)
	}
	checkObject(t, "Open", oobj, "a/b.txt", second)
	if es := list(t, s, "a"); len(es) != 1 {
		t.Errorf("List(a) after replace = %+v, want one entry", es)
	}
}

func testList(t *testing.T, s artifact.Store) {
	put(t, s, "run/metrics.json", []byte("{}"))
	put(t, s, "run/model/MLmodel", []byte("flavors: {}"))
	put(t, s, "run/model/model.pkl", []byte("pickle"))
	put(t, s, "run/model/data/w.bin", []byte("0123456789"))
	put(t, s, "run/a.txt", []byte("a"))
	put(t, s, "other.txt", []byte("xyz"))

	if diff := cmp.Diff([]artifact.Entry{
		{Path: "other.txt", Size: 3},
		{Path: "run", IsDir: true},
	}, list(t, s, "")); diff != "" {
		t.Errorf("List(root) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]artifact.Entry{
		{Path: "run/a.txt", Size: 1},
		{Path: "run/metrics.json", Size: 2},
		{Path: "run/model", IsDir: true},
	}, list(t, s, "run")); diff != "" {
		t.Errorf("List(run) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]artifact.Entry{
		{Path: "run/model/MLmodel", Size: 11},
		{Path: "run/model/data", IsDir: true},
		{Path: "run/model/model.pkl", Size: 6},
	}, list(t, s, "run/model")); diff != "" {
		t.Errorf("List(run/model) (-want +got):\n%s", diff)
	}
}

func testListMissing(t *testing.T, s artifact.Store) {
	if es := list(t, s, ""); len(es) != 0 {
		t.Errorf("List of an empty store = %+v, want none", es)
	}
	put(t, s, "d/f", []byte("x"))
	if es := list(t, s, "nope"); len(es) != 0 {
		t.Errorf("List(missing dir) = %+v, want none", es)
	}
	if es := list(t, s, "d/f"); len(es) != 0 {
		t.Errorf("List(a file) = %+v, want none", es)
	}
	if es := list(t, s, "d/f/deeper"); len(es) != 0 {
		t.Errorf("List(below a file) = %+v, want none", es)
	}
	// A name that is a prefix of another is not its directory.
	put(t, s, "dd/g", []byte("y"))
	if diff := cmp.Diff([]artifact.Entry{{Path: "d/f", Size: 1}}, list(t, s, "d")); diff != "" {
		t.Errorf("List(d) (-want +got):\n%s", diff)
	}
}

func testDeleteFile(t *testing.T, s artifact.Store) {
	ctx := context.Background()
	put(t, s, "d/keep.txt", []byte("keep"))
	put(t, s, "d/gone.txt", []byte("gone"))
	put(t, s, "solo/only.txt", []byte("only"))
	if err := s.Delete(ctx, "d/gone.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Stat(ctx, "d/gone.txt")
	wantKind(t, "Stat after Delete", err, fault.ErrNotFound)
	if diff := cmp.Diff([]artifact.Entry{{Path: "d/keep.txt", Size: 4}}, list(t, s, "d")); diff != "" {
		t.Errorf("List(d) after Delete (-want +got):\n%s", diff)
	}
	// Deleting the last file of a directory leaves no empty directory behind
	// (object stores have none).
	if err := s.Delete(ctx, "solo/only.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if diff := cmp.Diff([]artifact.Entry{{Path: "d", IsDir: true}}, list(t, s, "")); diff != "" {
		t.Errorf("List(root) after deleting solo/only.txt (-want +got):\n%s", diff)
	}
	// Deleting nothing is not an error.
	if err := s.Delete(ctx, "d/gone.txt"); err != nil {
		t.Errorf("Delete of a missing object: %v", err)
	}
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Errorf("Delete of a missing directory: %v", err)
	}
	// The path can be written again.
	put(t, s, "d/gone.txt", []byte("back"))
	if got, _ := readAll(t, s, "d/gone.txt"); string(got) != "back" {
		t.Errorf("read %q after re-put, want %q", got, "back")
	}
}

func testDeleteDirectory(t *testing.T, s artifact.Store) {
	ctx := context.Background()
	put(t, s, "run/model/MLmodel", []byte("m"))
	put(t, s, "run/model/data/w.bin", []byte("w"))
	put(t, s, "run/modelx.txt", []byte("not under run/model"))
	put(t, s, "run/plot.png", []byte("p"))
	if err := s.Delete(ctx, "run/model"); err != nil {
		t.Fatalf("Delete(dir): %v", err)
	}
	for _, p := range []string{"run/model/MLmodel", "run/model/data/w.bin"} {
		_, err := s.Stat(ctx, p)
		wantKind(t, "Stat("+p+") after deleting its directory", err, fault.ErrNotFound)
	}
	if diff := cmp.Diff([]artifact.Entry{
		{Path: "run/modelx.txt", Size: 19},
		{Path: "run/plot.png", Size: 1},
	}, list(t, s, "run")); diff != "" {
		t.Errorf("List(run) after Delete(run/model) (-want +got):\n%s", diff)
	}
	if err := s.Delete(ctx, "run"); err != nil {
		t.Fatalf("Delete(run): %v", err)
	}
	if es := list(t, s, ""); len(es) != 0 {
		t.Errorf("List(root) after Delete(run) = %+v, want none", es)
	}
}

// BadPaths lists paths every store must refuse.
var BadPaths = []string{
	"", "/abs", "/", "a//b", "a/", "./a", "a/./b", "../a", "a/../b", "a/..",
	`a\b`, "a\x00b", "\xff\xfe", artifact.ReservedPrefix + "x", "a/" + artifact.ReservedPrefix + "tmp",
	strings.Repeat("x", 256), strings.Repeat("a/", 512) + "b",
}

func testBadPaths(t *testing.T, s artifact.Store) {
	ctx := context.Background()
	put(t, s, "ok", []byte("ok"))
	for _, p := range BadPaths {
		_, err := s.Put(ctx, p, strings.NewReader("x"))
		wantInvalidPath(t, fmt.Sprintf("Put(%q)", p), err)
		_, _, err = s.Open(ctx, p)
		wantInvalidPath(t, fmt.Sprintf("Open(%q)", p), err)
		_, err = s.Stat(ctx, p)
		wantInvalidPath(t, fmt.Sprintf("Stat(%q)", p), err)
		err = s.Delete(ctx, p)
		wantInvalidPath(t, fmt.Sprintf("Delete(%q)", p), err)
		if p != "" {
			_, err = s.List(ctx, p)
			wantInvalidPath(t, fmt.Sprintf("List(%q)", p), err)
		}
	}
	if diff := cmp.Diff([]artifact.Entry{{Path: "ok", Size: 2}}, list(t, s, "")); diff != "" {
		t.Errorf("List(root) after refused writes (-want +got):\n%s", diff)
	}
}

func wantInvalidPath(t *testing.T, what string, err error) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("%s: got %v, want a fault.ErrInvalid error", what, err)
		return
	}
	if len(fe.Fields) == 0 || fe.Fields[0].Field != "path" {
		t.Errorf("%s: error %v does not name the field \"path\"", what, err)
	}
}

func testConcurrentDistinct(t *testing.T, s artifact.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			content := bytes.Repeat([]byte{byte('a' + i)}, 1000+i)
			_, errs[i] = s.Put(context.Background(), fmt.Sprintf("c/%02d/f", i), bytes.NewReader(content))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	for i := range n {
		p := fmt.Sprintf("c/%02d/f", i)
		got, obj := readAll(t, s, p)
		want := bytes.Repeat([]byte{byte('a' + i)}, 1000+i)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes of %q, want %d of %q", p, len(got), got[:1], len(want), want[:1])
		}
		checkObject(t, "Open("+p+")", obj, p, want)
	}
	if es := list(t, s, "c"); len(es) != n {
		t.Errorf("List(c) has %d entries, want %d", len(es), n)
	}
}

func testConcurrentSame(t *testing.T, s artifact.Store) {
	const n = 12
	contents := make([][]byte, n)
	for i := range n {
		contents[i] = bytes.Repeat([]byte(fmt.Sprintf("writer %02d;", i)), 5000+i*100)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Put(context.Background(), "same/f", bytes.NewReader(contents[i]))
		})
	}
	// Readers racing the writers see either nothing or one whole version.
	for range 4 {
		wg.Go(func() {
			for range 20 {
				rc, obj, err := s.Open(context.Background(), "same/f")
				if errors.Is(err, fault.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Errorf("Open during writes: %v", err)
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("read during writes: %v", err)
					return
				}
				if digestOf(b) != obj.Digest || int64(len(b)) != obj.Size {
					t.Errorf("read during writes: content does not match Open's object")
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	got, obj := readAll(t, s, "same/f")
	if !slices.ContainsFunc(contents, func(c []byte) bool { return bytes.Equal(c, got) }) {
		t.Fatalf("final content (%d bytes) is none of the writers' whole content", len(got))
	}
	checkObject(t, "Open", obj, "same/f", got)
	st, err := s.Stat(context.Background(), "same/f")
	if err != nil {
		t.Fatal(err)
	}
	checkObject(t, "Stat", st, "same/f", got)
	if diff := cmp.Diff([]artifact.Entry{{Path: "same/f", Size: int64(len(got))}}, list(t, s, "same")); diff != "" {
		t.Errorf("List(same) (-want +got):\n%s", diff)
	}
}

// failingReader returns n bytes and then err.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'z'
	}
	f.n -= k
	return k, nil
}

var errClientGone = errors.New("client went away")

func testFailedPut(t *testing.T, s artifact.Store) {
	ctx := context.Background()
	// Past the first buffer and, for stores with parts, well into the stream.
	_, err := s.Put(ctx, "f/partial.bin", &failingReader{n: 9<<20 + 17, err: errClientGone})
	if !errors.Is(err, errClientGone) {
		t.Fatalf("Put with a failing reader: got %v, want an error wrapping the reader's", err)
	}
	_, err = s.Stat(ctx, "f/partial.bin")
	wantKind(t, "Stat after a failed Put", err, fault.ErrNotFound)
	_, _, err = s.Open(ctx, "f/partial.bin")
	wantKind(t, "Open after a failed Put", err, fault.ErrNotFound)
	if es := list(t, s, ""); len(es) != 0 {
		t.Errorf("List(root) after a failed Put = %+v, want none", es)
	}
	if es := list(t, s, "f"); len(es) != 0 {
		t.Errorf("List(f) after a failed Put = %+v, want none", es)
	}
}

func testFailedReplace(t *testing.T, s artifact.Store) {
	old := []byte("the good version")
	put(t, s, "g/model.bin", old)
	_, err := s.Put(context.Background(), "g/model.bin", &failingReader{n: 1 << 20, err: errClientGone})
	if !errors.Is(err, errClientGone) {
		t.Fatalf("Put with a failing reader: got %v, want an error wrapping the reader's", err)
	}
	got, obj := readAll(t, s, "g/model.bin")
	if !bytes.Equal(got, old) {
		t.Errorf("after a failed replace read %q, want the old %q", got, old)
	}
	checkObject(t, "Open", obj, "g/model.bin", old)
	if diff := cmp.Diff([]artifact.Entry{{Path: "g/model.bin", Size: int64(len(old))}}, list(t, s, "g")); diff != "" {
		t.Errorf("List(g) (-want +got):\n%s", diff)
	}
}

// blockingReader returns some bytes, then cancels and blocks until ctx is
// done, then keeps returning bytes: only the store can stop the stream.
type blockingReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	sent   int
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.sent > 1<<20 {
		b.cancel()
		<-b.ctx.Done()
	}
	b.sent += len(p)
	return len(p), nil
}

func testCancelledPut(t *testing.T, s artifact.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := s.Put(ctx, "x/cancelled.bin", &blockingReader{ctx: ctx, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: got %v, want context.Canceled", err)
	}
	_, err = s.Stat(context.Background(), "x/cancelled.bin")
	wantKind(t, "Stat after a cancelled Put", err, fault.ErrNotFound)
	if es := list(t, s, ""); len(es) != 0 {
		t.Errorf("List(root) after a cancelled Put = %+v, want none", es)
	}
}

func testCorruption(t *testing.T, s artifact.Store, corrupt func(t *testing.T, s artifact.Store, path string)) {
	if corrupt == nil {
		t.Skip("no WithCorrupt hook given for this store")
	}
	content := bytes.Repeat([]byte("model weights "), 10000)
	put(t, s, "m/model.bin", content)
	corrupt(t, s, "m/model.bin")

	rc, _, err := s.Open(context.Background(), "m/model.bin")
	if err != nil {
		// Detecting it before the first byte is allowed too.
		wantCorrupt(t, err, "m/model.bin", digestOf(content))
		return
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)
	wantCorrupt(t, err, "m/model.bin", digestOf(content))
}

func wantCorrupt(t *testing.T, err error, path, digest string) {
	t.Helper()
	wantKind(t, "reading a corrupted object", err, fault.ErrUnavailable)
	msg := err.Error()
	for _, want := range []string{path, digest, "corrupt", "re-upload"} {
		if !strings.Contains(msg, want) {
			t.Errorf("corruption error %q does not mention %q", msg, want)
		}
	}
	if strings.Count(msg, artifact.DigestPrefix) < 2 {
		t.Errorf("corruption error %q does not name both digests", msg)
	}
}
