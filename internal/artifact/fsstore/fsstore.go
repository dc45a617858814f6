package fsstore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/fault"
)

const (
	digestDir = artifact.ReservedPrefix + "digests"
	tmpPrefix = artifact.ReservedPrefix + "tmp-"
	// copyBuffer is the size of the buffer Put streams through; larger than
	// io.Copy's 32 KiB so that big uploads make fewer syscalls.
	copyBuffer = 1 << 20
	stripes    = 64
)

// Store keeps artifacts as files under a root directory. It is safe for
// concurrent use by one process; see the package doc.
type Store struct {
	root    string // data files
	digests string // digest records, mirroring root
	seed    maphash.Seed
	locks   [stripes]sync.RWMutex
	bufs    sync.Pool
}

var _ artifact.Store = (*Store)(nil)

// New returns a store rooted at dir, creating it if needed.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("fsstore: empty root directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fsstore: root %s: %w", dir, err)
	}
	s := &Store{root: abs, digests: filepath.Join(abs, digestDir), seed: maphash.MakeSeed()}
	s.bufs.New = func() any { b := make([]byte, copyBuffer); return &b }
	if err := os.MkdirAll(s.digests, 0o755); err != nil {
		return nil, fmt.Errorf("fsstore: create artifact root %s (check that the parent exists and is writable): %w", abs, err)
	}
	return s, nil
}

// Root returns the directory the store keeps its files under.
func (s *Store) Root() string { return s.root }

func (s *Store) lock(path string) *sync.RWMutex {
	return &s.locks[maphash.String(s.seed, path)%stripes]
}

func (s *Store) dataPath(p string) string   { return filepath.Join(s.root, filepath.FromSlash(p)) }
func (s *Store) recordPath(p string) string { return filepath.Join(s.digests, filepath.FromSlash(p)) }

// Put streams r into path; see artifact.Store and the package doc.
func (s *Store) Put(ctx context.Context, path string, r io.Reader) (artifact.Object, error) {
	if _, err := artifact.CleanPath(path); err != nil {
		return artifact.Object{}, err
	}
	full := s.dataPath(path)
	tmp, err := s.createTemp(path, filepath.Dir(full))
	if err != nil {
		return artifact.Object{}, err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
			s.prune(filepath.Dir(full), s.root)
		}
	}()

	dw := artifact.NewDigestWriter(tmp)
	bp := s.bufs.Get().(*[]byte)
	_, err = io.CopyBuffer(dw, artifact.ContextReader(ctx, r), *bp)
	s.bufs.Put(bp)
	if err != nil {
		return artifact.Object{}, s.ioError(path, "write", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return artifact.Object{}, s.ioError(path, "write", err)
	}
	if err := tmp.Sync(); err != nil {
		return artifact.Object{}, s.ioError(path, "write", err)
	}
	if err := tmp.Close(); err != nil {
		return artifact.Object{}, s.ioError(path, "write", err)
	}
	if err := ctx.Err(); err != nil {
		return artifact.Object{}, err
	}
	newRec := entry{digest: dw.Digest(), size: dw.Size()}

	mu := s.lock(path)
	mu.Lock()
	defer mu.Unlock()

	if fi, err := os.Lstat(full); err == nil && fi.IsDir() {
		return artifact.Object{}, fault.New(fault.ErrConflict,
			"artifact %q is a directory of other artifacts; choose another path or delete the directory first", path)
	}
	// 1. The record names the new digest and the one of the data now at path.
	rec := record{newRec}
	if cur, err := s.current(path, full); err == nil {
		rec = append(rec, cur)
	}
	if err := s.writeRecord(path, rec, true); err != nil {
		return artifact.Object{}, err
	}
	// 2. The new data replaces the old.
	if err := os.Rename(tmp.Name(), full); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return artifact.Object{}, fault.New(fault.ErrConflict,
				"artifact %q: its directory was deleted while it was being written; upload it again", path)
		}
		return artifact.Object{}, s.ioError(path, "write", err)
	}
	committed = true
	if err := syncDir(filepath.Dir(full)); err != nil {
		return artifact.Object{}, s.ioError(path, "write", err)
	}
	// 3. Only the new digest remains. Losing this write in a crash is fine:
	// readers resolve the two-candidate record.
	if err := s.writeRecord(path, record{newRec}, false); err != nil {
		return artifact.Object{}, err
	}
	fi, err := os.Stat(full)
	if err != nil {
		return artifact.Object{}, s.ioError(path, "stat", err)
	}
	return artifact.Object{Path: path, Size: newRec.size, Digest: newRec.digest, Modified: fi.ModTime()}, nil
}

// createTemp creates the temporary file for path in dir, creating dir. A
// concurrent Delete may prune dir between the two steps, hence the retries.
func (s *Store) createTemp(path, dir string) (*os.File, error) {
	var err error
	for range 5 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			break
		}
		var f *os.File
		if f, err = os.CreateTemp(dir, tmpPrefix+"*"); err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
		return nil, fault.New(fault.ErrConflict,
			"artifact %q: a parent of this path is a file, so it cannot hold other artifacts; choose another path", path)
	}
	return nil, s.ioError(path, "write", err)
}

// current returns the record entry describing the data now at path.
func (s *Store) current(path, full string) (entry, error) {
	f, err := os.Open(full)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	e, _, err := s.resolve(path, f)
	return e, err
}

// Open returns the object's content, verified against its digest at EOF.
func (s *Store) Open(ctx context.Context, path string) (io.ReadCloser, artifact.Object, error) {
	if _, err := artifact.CleanPath(path); err != nil {
		return nil, artifact.Object{}, err
	}
	f, obj, err := s.open(path)
	if err != nil {
		return nil, artifact.Object{}, err
	}
	return artifact.NewVerifyingReader(f, path, obj.Digest, obj.Size), obj, nil
}

// Stat returns the object's metadata.
func (s *Store) Stat(ctx context.Context, path string) (artifact.Object, error) {
	if _, err := artifact.CleanPath(path); err != nil {
		return artifact.Object{}, err
	}
	f, obj, err := s.open(path)
	if err != nil {
		return artifact.Object{}, err
	}
	f.Close()
	return obj, nil
}

// open opens the data file and reads its record under the path's read lock,
// so the descriptor and digest belong together. It repairs a record a crash
// left with two candidates.
func (s *Store) open(path string) (*os.File, artifact.Object, error) {
	mu := s.lock(path)
	mu.RLock()
	f, e, obj, repair, err := s.openLocked(path)
	mu.RUnlock()
	if err != nil {
		return nil, artifact.Object{}, err
	}
	if repair {
		mu.Lock()
		// Repair only if nothing changed since: same file, same record.
		if cur, err := os.Stat(s.dataPath(path)); err == nil {
			if fi, err := f.Stat(); err == nil && os.SameFile(cur, fi) {
				if rec, err := readRecord(s.recordPath(path)); err == nil && len(rec) == 2 {
					_ = s.writeRecord(path, record{e}, false) // best effort: readers resolve it again
				}
			}
		}
		mu.Unlock()
	}
	return f, obj, nil
}

func (s *Store) openLocked(path string) (f *os.File, e entry, obj artifact.Object, repair bool, err error) {
	f, err = os.Open(s.dataPath(path))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, e, obj, false, fault.NotFound("artifact", path)
		}
		return nil, e, obj, false, s.ioError(path, "open", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, e, obj, false, s.ioError(path, "stat", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, e, obj, false, fault.NotFound("artifact", path)
	}
	e, repair, err = s.resolve(path, f)
	if err != nil {
		f.Close()
		return nil, e, obj, false, err
	}
	return f, e, artifact.Object{Path: path, Size: e.size, Digest: e.digest, Modified: fi.ModTime()}, repair, nil
}

// List returns the direct children of dir, sorted by path.
func (s *Store) List(ctx context.Context, dir string) ([]artifact.Entry, error) {
	if _, err := artifact.CleanDir(dir); err != nil {
		return nil, err
	}
	des, err := os.ReadDir(s.dataPath(dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return []artifact.Entry{}, nil
		}
		return nil, s.ioError(dir, "list", err)
	}
	out := make([]artifact.Entry, 0, len(des))
	for _, de := range des { // ReadDir sorts by name, hence by path
		name := de.Name()
		if strings.HasPrefix(name, artifact.ReservedPrefix) {
			continue
		}
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		switch {
		case de.IsDir():
			out = append(out, artifact.Entry{Path: p, IsDir: true})
		case de.Type().IsRegular():
			fi, err := de.Info()
			if err != nil {
				continue // deleted meanwhile
			}
			out = append(out, artifact.Entry{Path: p, Size: fi.Size()})
		}
	}
	return out, nil
}

// Delete removes path and everything under it, then the directories it
// leaves empty.
func (s *Store) Delete(ctx context.Context, path string) error {
	if _, err := artifact.CleanPath(path); err != nil {
		return err
	}
	mu := s.lock(path)
	mu.Lock()
	defer mu.Unlock()
	// Data first: a record without data is invisible, data without a
	// record is not.
	full, rec := s.dataPath(path), s.recordPath(path)
	if err := removeAll(full); err != nil {
		return s.ioError(path, "delete", err)
	}
	if err := removeAll(rec); err != nil {
		return s.ioError(path, "delete", err)
	}
	s.prune(filepath.Dir(full), s.root)
	s.prune(filepath.Dir(rec), s.digests)
	return nil
}

func removeAll(p string) error {
	err := os.RemoveAll(p)
	if errors.Is(err, syscall.ENOTDIR) {
		return nil // a parent is a file: nothing is there
	}
	return err
}

// prune removes dir and its parents up to (not including) stop while they
// are empty.
func (s *Store) prune(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return // not empty, or gone
		}
		dir = filepath.Dir(dir)
	}
}

// ioError turns a filesystem failure into an error a user can act on where
// one is known, and otherwise an internal error with the detail.
func (s *Store) ioError(path, op string, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return artifact.WithCause(fault.New(fault.ErrUnavailable,
			"cannot %s artifact %q: the artifact store's disk is full; an administrator must free space under the artifact root", op, path), err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return artifact.WithCause(fault.New(fault.ErrUnavailable,
			"cannot %s artifact %q: the server may not write its artifact root; an administrator must fix the permissions of the configured artifact directory", op, path), err)
	}
	return fmt.Errorf("%s artifact %q: %w", op, path, err)
}
