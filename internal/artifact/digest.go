package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

// DigestPrefix starts every digest: Object.Digest is "sha256:" and 64
// lower-case hex digits.
const DigestPrefix = "sha256:"

// ValidDigest reports whether d has the form of Object.Digest.
func ValidDigest(d string) bool {
	h, ok := strings.CutPrefix(d, DigestPrefix)
	if !ok || len(h) != 2*sha256.Size {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func formatDigest(h hash.Hash) string {
	return DigestPrefix + hex.EncodeToString(h.Sum(nil))
}

// DigestWriter passes what is written to it on to an underlying writer
// (none: only hash) and records its SHA-256 digest and size.
type DigestWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

// NewDigestWriter returns a DigestWriter writing to w; w may be nil.
func NewDigestWriter(w io.Writer) *DigestWriter {
	return &DigestWriter{w: w, h: sha256.New()}
}

// Write writes p to the underlying writer and hashes what it accepted.
func (d *DigestWriter) Write(p []byte) (int, error) {
	n := len(p)
	var err error
	if d.w != nil {
		n, err = d.w.Write(p)
	}
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (d *DigestWriter) Size() int64 { return d.n }

// Digest is the digest of the bytes written so far ("sha256:...").
func (d *DigestWriter) Digest() string { return formatDigest(d.h) }

// DigestReader reads from an underlying reader and records the SHA-256
// digest and size of what it returned.
type DigestReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

// NewDigestReader returns a DigestReader reading from r.
func NewDigestReader(r io.Reader) *DigestReader {
	return &DigestReader{r: r, h: sha256.New()}
}

// Read reads from the underlying reader and hashes what it returns.
func (d *DigestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// Size is the number of bytes read so far.
func (d *DigestReader) Size() int64 { return d.n }

// Digest is the digest of the bytes read so far ("sha256:...").
func (d *DigestReader) Digest() string { return formatDigest(d.h) }

// NewVerifyingReader returns a reader over rc that checks, when rc reports
// io.EOF, that what it returned has the recorded digest and size. On a
// mismatch the final Read returns an error wrapping fault.ErrUnavailable that
// names path and both digests; the caller must then discard what it read.
// Closing it closes rc.
func NewVerifyingReader(rc io.ReadCloser, path, digest string, size int64) io.ReadCloser {
	return &verifyingReader{rc: rc, d: NewDigestReader(rc), path: path, digest: digest, size: size}
}

type verifyingReader struct {
	rc     io.ReadCloser
	d      *DigestReader
	path   string
	digest string
	size   int64
	err    error // sticky result once EOF was reached
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.d.Read(p)
	if errors.Is(err, io.EOF) {
		if got := v.d.Digest(); got != v.digest || v.d.Size() != v.size {
			v.err = Corrupt(v.path, v.digest, got, v.d.Size(), v.size)
			return n, v.err
		}
		v.err = io.EOF
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// Corrupt returns the error for an object whose stored content does not
// match what was recorded when it was written: fault.ErrUnavailable, naming
// the path and both digests and saying to re-upload it.
func Corrupt(path, want, got string, gotSize, wantSize int64) error {
	return fault.New(fault.ErrUnavailable,
		"artifact %s is corrupt: its stored content has digest %s (%d bytes) but digest %s (%d bytes) was recorded when it was written; "+
			"discard what was read and re-upload the artifact", quote(path), got, gotSize, want, wantSize)
}
