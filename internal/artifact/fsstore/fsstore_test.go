package fsstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/artifact/artifacttest"
	"github.com/mlportal/mlportal/internal/artifact/fsstore"
	"github.com/mlportal/mlportal/internal/fault"
)

func newStore(t testing.TB) *fsstore.Store {
	s, err := fsstore.New(filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// corrupt flips one byte in the middle of the data file, as bit rot would.
func corrupt(t *testing.T, s artifact.Store, path string) {
	full := filepath.Join(s.(*fsstore.Store).Root(), filepath.FromSlash(path))
	f, err := os.OpenFile(full, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
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

func TestConformance(t *testing.T) {
	artifacttest.Run(t, func(t *testing.T) artifact.Store { return newStore(t) },
		artifacttest.WithCorrupt(corrupt))
}

func read(t *testing.T, s *fsstore.Store, path string) (string, artifact.Object, error) {
	t.Helper()
	rc, obj, err := s.Open(context.Background(), path)
	if err != nil {
		return "", obj, err
	}
	defer rc.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(rc)
	return b.String(), obj, err
}

func digest(s string) string {
	d := artifact.NewDigestWriter(nil)
	d.Write([]byte(s))
	return d.Digest()
}

func recordFile(s *fsstore.Store, path string) string {
	return filepath.Join(s.Root(), ".mlportal-digests", filepath.FromSlash(path))
}

// A crash between a Put's two renames leaves a record with two candidates;
// whichever data survived is read back as healthy and the record repaired.
func TestCrashBetweenRecordAndRename(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		newer, older  string
		dataOnDisk    string // what the crash left at the path
		wantCandidate string
	}{
		{"old data, sizes differ", "new content, longer", "old", "old", "old"},
		{"new data, sizes differ", "new content, longer", "old", "new content, longer", "new content, longer"},
		{"old data, same size", "bbbb", "aaaa", "aaaa", "aaaa"},
		{"new data, same size", "bbbb", "aaaa", "bbbb", "bbbb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if _, err := s.Put(ctx, "m/model.bin", strings.NewReader(tc.dataOnDisk)); err != nil {
				t.Fatal(err)
			}
			rec := digest(tc.newer) + " " + strconv.Itoa(len(tc.newer)) + "\n" + digest(tc.older) + " " + strconv.Itoa(len(tc.older)) + "\n"
			if err := os.WriteFile(recordFile(s, "m/model.bin"), []byte(rec), 0o644); err != nil {
				t.Fatal(err)
			}
			got, obj, err := read(t, s, "m/model.bin")
			if err != nil {
				t.Fatalf("read after crash: %v", err)
			}
			if got != tc.wantCandidate || obj.Digest != digest(tc.wantCandidate) {
				t.Errorf("read %q digest %s, want %q %s", got, obj.Digest, tc.wantCandidate, digest(tc.wantCandidate))
			}
			b, err := os.ReadFile(recordFile(s, "m/model.bin"))
			if err != nil {
				t.Fatal(err)
			}
			if want := digest(tc.wantCandidate) + " " + strconv.Itoa(len(tc.wantCandidate)) + "\n"; string(b) != want {
				t.Errorf("record after repair = %q, want %q", b, want)
			}
		})
	}
}

// A crash that leaves a temporary file (or a record without data) shows
// nothing to callers.
func TestLeftoversAreInvisible(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Put(ctx, "d/a.txt", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Root(), "d", ".mlportal-tmp-123"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(recordFile(s, "e/ghost")), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recordFile(s, "e/ghost"), []byte(digest("x")+" 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	es, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]artifact.Entry{{Path: "d", IsDir: true}}, es); diff != "" {
		t.Errorf("List(root) (-want +got):\n%s", diff)
	}
	es, err = s.List(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]artifact.Entry{{Path: "d/a.txt", Size: 1}}, es); diff != "" {
		t.Errorf("List(d) (-want +got):\n%s", diff)
	}
	if _, err := s.Stat(ctx, "e/ghost"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Stat of a record without data: %v, want not found", err)
	}
}

func TestFileWithoutRecordIsUnverifiable(t *testing.T) {
	s := newStore(t)
	if err := os.WriteFile(filepath.Join(s.Root(), "copied.bin"), []byte("by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := read(t, s, "copied.bin")
	if !errors.Is(err, fault.ErrUnavailable) || !strings.Contains(err.Error(), "re-upload") {
		t.Errorf("Open of a file without a record: %v, want unavailable saying to re-upload", err)
	}
}

func TestFileAndDirectoryConflict(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Put(ctx, "a/b", strings.NewReader("file")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(ctx, "a/b/c", strings.NewReader("under a file"))
	if !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Put below a file: %v, want a conflict", err)
	}
	_, err = s.Put(ctx, "a", strings.NewReader("over a directory"))
	if !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Put over a directory: %v, want a conflict", err)
	}
	if got, _, err := read(t, s, "a/b"); err != nil || got != "file" {
		t.Errorf("a/b = %q, %v after refused writes; want %q", got, err, "file")
	}
	es, err := s.List(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]artifact.Entry{{Path: "a/b", Size: 4}}, es); diff != "" {
		t.Errorf("List(a) (-want +got):\n%s", diff)
	}
}

func BenchmarkPut(b *testing.B)  { artifacttest.BenchmarkPut(b, newStore(b)) }
func BenchmarkOpen(b *testing.B) { artifacttest.BenchmarkOpen(b, newStore(b)) }
