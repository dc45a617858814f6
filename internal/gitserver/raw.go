package gitserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

// File is one file of a repository as it is at a commit.
type File struct {
	Ref    string // the ref as asked for: `main`, `v1`, `HEAD`, a commit id
	Commit string // the commit Ref resolved to
	Path   string // the file's path in the commit's tree
	Blob   string // the blob id: its content's identity, hence its ETag
	Size   int64
}

// maxRefSegments bounds how many leading segments Lookup tries as a ref.
const maxRefSegments = 8

// Lookup finds the file named by refPath, "<ref>/<path>", in the repository.
// A ref may contain slashes (`feature/x`): the shortest leading run of
// segments that names a commit is the ref, the rest the path. Refs are
// branch and tag names, `HEAD` or commit ids; revision expressions
// (`main~1`, `@{u}`, `:/text`) are refused, so no input reaches git as an
// option or an expression. Errors: fault.ErrInvalid for a malformed ref or
// path, fault.ErrNotFound for a missing repository, ref or file, and for
// directories.
func (s *Store) Lookup(ctx context.Context, team, project, refPath string) (File, error) {
	dir, err := s.repoDir(team, project)
	if err != nil {
		return File{}, err
	}
	segs, err := splitRefPath(refPath)
	if err != nil {
		return File{}, err
	}
	if ok, err := isRepo(dir); err != nil {
		return File{}, err
	} else if !ok {
		return File{}, fault.New(fault.ErrNotFound, "repository %s/%s not found", team, project)
	}

	// 1. Every way to split refPath, asked of one `git cat-file --batch-check`:
	// the names go in on stdin, never as arguments.
	type split struct{ ref, path string }
	var splits []split
	var query strings.Builder
	for k := 1; k < len(segs) && k <= maxRefSegments; k++ {
		ref := strings.Join(segs[:k], "/")
		if !validRef(ref) {
			continue
		}
		sp := split{ref, strings.Join(segs[k:], "/")}
		splits = append(splits, sp)
		fmt.Fprintf(&query, "%s^{commit}\n%s^{commit}:%s\n", sp.ref, sp.ref, sp.path)
	}
	if len(splits) == 0 {
		return File{}, fault.Invalid("invalid ref", fault.Field("ref",
			"%q is not a branch, tag or commit name: use a name without spaces, '..', '~', '^', ':', '?', '*', '[', '\\' or '@{', e.g. main", segs[0]))
	}
	out, err := s.run(ctx, nil, []byte(query.String()), "--git-dir="+dir, "cat-file", "--batch-check")
	if err != nil {
		return File{}, fmt.Errorf("look up %s in %s/%s: %w", refPath, team, project, err)
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 2*len(splits) {
		return File{}, fmt.Errorf("look up %s in %s/%s: git cat-file answered %d lines to %d questions", refPath, team, project, len(lines), 2*len(splits))
	}

	// 2. The shortest ref that names a commit wins.
	for i, sp := range splits {
		commit, ctype, _, ok := parseBatchCheck(lines[2*i])
		if strings.HasSuffix(lines[2*i], " ambiguous") {
			return File{}, fault.Invalid("ambiguous ref", fault.Field("ref", "%q names more than one object: use a full branch name (refs/heads/…) or a full commit id", sp.ref))
		}
		if !ok || ctype != "commit" {
			continue
		}
		f := File{Ref: sp.ref, Commit: commit, Path: sp.path}
		blob, btype, size, ok := parseBatchCheck(lines[2*i+1])
		switch {
		case !ok:
			return File{}, fault.New(fault.ErrNotFound, "%s not found at %s (%.12s) of %s/%s", sp.path, sp.ref, commit, team, project)
		case btype == "tree":
			return File{}, fault.New(fault.ErrNotFound, "%s is a directory at %s of %s/%s: name a file in it", sp.path, sp.ref, team, project)
		case btype != "blob":
			return File{}, fault.New(fault.ErrNotFound, "%s is a %s, not a file, at %s of %s/%s", sp.path, btype, sp.ref, team, project)
		}
		f.Blob, f.Size = blob, size
		return f, nil
	}
	return File{}, fault.New(fault.ErrNotFound, "no branch, tag or commit %q in %s/%s: use a branch name such as main, a tag, HEAD or a commit id", splits[0].ref, team, project)
}

// OpenBlob streams the content of a blob Lookup found. Close the reader
// to release the git process; Close reports git's failure, if any.
func (s *Store) OpenBlob(ctx context.Context, team, project, blob string) (io.ReadCloser, error) {
	dir, err := s.repoDir(team, project)
	if err != nil {
		return nil, err
	}
	if !objectIDRE.MatchString(blob) {
		return nil, fault.Invalid("invalid blob id", fault.Field("blob", "must be a full hexadecimal object id"))
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, s.git, "--git-dir="+dir, "cat-file", "blob", blob)
	cmd.Env = s.env()
	cmd.Dir = s.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	return &blobReader{ReadCloser: stdout, cmd: cmd, cancel: cancel, stderr: &stderr}, nil
}

// blobReader is the stdout of `git cat-file blob`; Close ends the process.
type blobReader struct {
	io.ReadCloser
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stderr *bytes.Buffer
	eof    bool
}

func (b *blobReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *blobReader) Close() error {
	if !b.eof {
		b.cancel() // the reader gave up: do not wait for git to write the rest
	}
	err := b.cmd.Wait()
	b.cancel()
	if err != nil && b.eof {
		return &gitError{args: b.cmd.Args[1:], err: err, stderr: strings.TrimSpace(b.stderr.String())}
	}
	return nil
}

var objectIDRE = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// parseBatchCheck reads "<oid> <type> <size>"; ok is false for "<name> missing".
func parseBatchCheck(line string) (oid, typ string, size int64, ok bool) {
	f := strings.Fields(line)
	if len(f) != 3 || !objectIDRE.MatchString(f[0]) {
		return "", "", 0, false
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return "", "", 0, false
	}
	return f[0], f[1], size, true
}

// splitRefPath checks "<ref>/<path>" and splits it into segments.
func splitRefPath(refPath string) ([]string, error) {
	bad := func(format string, args ...any) error {
		return fault.Invalid("invalid file address", fault.Field("path", format, args...))
	}
	if strings.ContainsFunc(refPath, isControl) || strings.Contains(refPath, "\\") {
		return nil, bad("must not contain control characters or '\\'")
	}
	if !fs.ValidPath(refPath) || refPath == "." {
		return nil, bad("%q must be <ref>/<path>: slash-separated names without empty, '.' or '..' segments", refPath)
	}
	segs := strings.Split(refPath, "/")
	if len(segs) < 2 {
		return nil, bad("%q names no file: use <ref>/<path>, e.g. main/catalog-info.yaml", refPath)
	}
	return segs, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// validRef follows `git check-ref-format` (with --allow-onelevel), and also
// refuses a leading '-' so that no ref can read as an option.
func validRef(ref string) bool {
	if ref == "" || ref == "@" || strings.HasPrefix(ref, "-") || strings.HasSuffix(ref, ".") ||
		strings.Contains(ref, "..") || strings.Contains(ref, "@{") ||
		strings.ContainsAny(ref, " ~^:?*[\\") || strings.ContainsFunc(ref, isControl) {
		return false
	}
	for part := range strings.SplitSeq(ref, "/") {
		if part == "" || strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}
