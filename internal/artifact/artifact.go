// Package artifact stores the files that runs, models and datasets produce
// (models, plots, checkpoints) behind one interface, so that the local
// filesystem (the default) and S3-compatible object stores are
// interchangeable. Content is streamed, never held whole in memory, and every
// object's SHA-256 digest is recorded when it is written and checked when it
// is read back.
//
// Besides the Store interface it holds what every implementation shares:
// CleanPath (the one rule for valid paths, and ReservedPrefix for a store's
// own names), DigestWriter and DigestReader (SHA-256 and size while
// streaming), NewVerifyingReader (fails at EOF with fault.ErrUnavailable when
// content and recorded digest disagree) and ContextReader. The conformance
// suite every store must pass is artifacttest; the stores are fsstore and
// s3store.
//
// It does no I/O of its own, keeps no index of artifacts (callers such as
// run tracking record which paths belong to what) and knows nothing of
// HTTP or of any particular backend.
package artifact

import (
	"context"
	"io"
	"time"
)

// Object describes a stored file.
type Object struct {
	// Path is the object's slash-separated path relative to the store's
	// root, e.g. "1/3f2a.../artifacts/model/model.pkl". Never starts with
	// '/', never contains "." or ".." elements.
	Path string
	Size int64
	// Digest is "sha256:" and 64 lower-case hex digits.
	Digest   string
	Modified time.Time
}

// Entry is one element of a listing: a file (with its size) or a directory.
type Entry struct {
	Path  string // relative to the store's root
	IsDir bool
	Size  int64 // files only
}

// Store is an artifact store. Implementations are safe for concurrent use.
type Store interface {
	// Put streams r into path, replacing what is there, and returns the
	// object with its size and digest. A failed Put leaves no partial
	// object visible at path.
	Put(ctx context.Context, path string, r io.Reader) (Object, error)
	// Open returns the object's content. The reader fails with an error
	// wrapping fault.ErrUnavailable at the end of the stream if the
	// content does not match the digest recorded by Put. A missing object
	// is fault.ErrNotFound.
	Open(ctx context.Context, path string) (io.ReadCloser, Object, error)
	// Stat returns the object's metadata; fault.ErrNotFound if missing.
	Stat(ctx context.Context, path string) (Object, error)
	// List returns the direct children of the directory dir ("" = the
	// root), files and directories, sorted by path. An empty or missing
	// directory is an empty list.
	List(ctx context.Context, dir string) ([]Entry, error)
	// Delete removes path and, if it is a directory, everything under it.
	// Deleting nothing is not an error.
	Delete(ctx context.Context, path string) error
}
