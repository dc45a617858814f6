package fsstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/fault"
)

// entry is one candidate of a digest record.
type entry struct {
	digest string
	size   int64
}

// record is the content of a digest file: one line "sha256:<hex> <size>" per
// candidate, newest first. It has one candidate except after a crash in the
// middle of a Put's commit (see the package doc).
type record []entry

func (r record) String() string {
	var b strings.Builder
	for _, e := range r {
		fmt.Fprintf(&b, "%s %d\n", e.digest, e.size)
	}
	return b.String()
}

func parseRecord(s string) (record, error) {
	var r record
	for line := range strings.Lines(s) {
		d, n, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		size, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || size < 0 || !artifact.ValidDigest(d) {
			return nil, fmt.Errorf("malformed digest record line %q", line)
		}
		r = append(r, entry{digest: d, size: size})
	}
	if len(r) == 0 || len(r) > 2 {
		return nil, fmt.Errorf("digest record has %d entries, want 1 or 2", len(r))
	}
	return r, nil
}

func readRecord(p string) (record, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return parseRecord(string(b))
}

// writeRecord replaces path's record atomically (temp file, fsync, rename);
// with syncParent it also fsyncs the directory so the rename is durable.
func (s *Store) writeRecord(path string, r record, syncParent bool) error {
	dst := s.recordPath(path)
	dir := filepath.Dir(dst)
	var f *os.File
	var err error
	for range 5 { // a concurrent Delete may prune dir in between
		if err = os.MkdirAll(dir, 0o755); err != nil {
			break
		}
		if f, err = os.CreateTemp(dir, tmpPrefix+"*"); !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return s.ioError(path, "record the digest of", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.WriteString(r.String()); err != nil {
		return s.ioError(path, "record the digest of", err)
	}
	if err := f.Sync(); err != nil {
		return s.ioError(path, "record the digest of", err)
	}
	if err := f.Close(); err != nil {
		return s.ioError(path, "record the digest of", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return s.ioError(path, "record the digest of", err)
	}
	ok = true
	if syncParent {
		if err := syncDir(dir); err != nil {
			return s.ioError(path, "record the digest of", err)
		}
	}
	return nil
}

// resolve returns the record entry that describes the open data file f, and
// whether the record should be rewritten with it alone. With one candidate
// that is the answer (a mismatch is corruption, which the verifying reader
// reports); with two, the one of f's size, or if both have it, the one
// matching f's hash. f's offset is left at 0.
func (s *Store) resolve(path string, f *os.File) (entry, bool, error) {
	rec, err := readRecord(s.recordPath(path))
	if err != nil {
		return entry{}, false, fault.New(fault.ErrUnavailable,
			"artifact %q has no valid digest record, so its content cannot be verified; re-upload the artifact", path)
	}
	if len(rec) == 1 {
		return rec[0], false, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return entry{}, false, s.ioError(path, "stat", err)
	}
	var bySize []entry
	for _, e := range rec {
		if e.size == fi.Size() {
			bySize = append(bySize, e)
		}
	}
	switch len(bySize) {
	case 0:
		return rec[0], false, nil // neither fits: corrupt, reported on read
	case 1:
		return bySize[0], true, nil
	}
	d := artifact.NewDigestWriter(nil)
	_, err = io.Copy(d, io.NewSectionReader(f, 0, fi.Size()))
	if err != nil {
		return entry{}, false, s.ioError(path, "read", err)
	}
	for _, e := range rec {
		if e.digest == d.Digest() {
			return e, true, nil
		}
	}
	return rec[0], false, nil
}

// syncDir fsyncs a directory so that renames into it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
