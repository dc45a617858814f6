package gitserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
)

// Branch is the default branch of every repository.
const Branch = "main"

// The committer of first commits; the author is the caller's.
const (
	committerName  = "mlportal"
	committerEmail = "noreply@mlportal.invalid"
)

// Create makes the repository if it is missing and, if it has no commits yet,
// commits files to its default branch `main` as author ("Name <email>", or a
// bare name) with message, dated by the Store's clock. It returns the head
// commit. It is idempotent: a repository that already has commits is left
// unchanged and its head returned, so a saga may retry it.
func (s *Store) Create(ctx context.Context, team, project string, files map[string][]byte, author, message string) (string, error) {
	dir, err := s.repoDir(team, project)
	if err != nil {
		return "", err
	}
	name, email, err := parseIdent(author)
	if err != nil {
		return "", err
	}
	if err := validPaths(files); err != nil {
		return "", err
	}
	if strings.TrimSpace(message) == "" {
		return "", fault.Invalid("invalid commit", fault.Field("message", "must not be empty"))
	}
	unlock, err := s.lock(ctx, team+"/"+project)
	if err != nil {
		return "", err
	}
	defer unlock()

	// 1. The bare repository, made aside and renamed into place so that
	// nobody ever sees it half-initialised.
	if ok, err := isRepo(dir); err != nil {
		return "", err
	} else if !ok {
		if err := s.initRepo(ctx, dir); err != nil {
			return "", fmt.Errorf("create repository %s/%s: %w", team, project, err)
		}
	}
	// 2. A repository with commits is done: a retry, or someone pushed.
	if head, ok, err := s.head(ctx, dir); err != nil || ok {
		return head, err
	}
	// 3. The first commit, then the branch, only if it still does not exist.
	commit, err := s.writeCommit(ctx, dir, files, name, email, message)
	if err != nil {
		return "", fmt.Errorf("first commit of %s/%s: %w", team, project, err)
	}
	zero := strings.Repeat("0", len(commit))
	if _, err := s.run(ctx, nil, nil, "--git-dir="+dir, "update-ref", "-m", "mlportal: create", "refs/heads/"+Branch, commit, zero); err != nil {
		// Another process sharing the root may have won the race.
		if head, ok, herr := s.head(ctx, dir); herr == nil && ok {
			return head, nil
		}
		return "", fmt.Errorf("set branch of %s/%s: %w", team, project, err)
	}
	s.log.InfoContext(ctx, "created git repository", "team", team, "project", project, "commit", commit, "files", len(files))
	return commit, nil
}

func (s *Store) initRepo(ctx context.Context, dir string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if _, err := s.run(ctx, nil, nil, "init", "--bare", "--quiet", "--initial-branch="+Branch, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if ok, _ := isRepo(dir); ok { // made meanwhile by another process
			return nil
		}
		return err
	}
	return nil
}

// head returns the commit HEAD points at; ok is false while the branch is unborn.
func (s *Store) head(ctx context.Context, dir string) (string, bool, error) {
	out, err := s.run(ctx, nil, nil, "--git-dir="+dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 && ctx.Err() == nil {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read head: %w", err)
	}
	return out, true, nil
}

// writeCommit stores files as blobs, builds their tree in a temporary index
// and commits it; it moves no branch.
func (s *Store) writeCommit(ctx context.Context, dir string, files map[string][]byte, name, email, message string) (string, error) {
	tmp, err := os.MkdirTemp("", "mlportal-index-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}
	gitDir := "--git-dir=" + dir

	var entries strings.Builder
	for _, p := range slices.Sorted(maps.Keys(files)) {
		blob, err := s.run(ctx, nil, files[p], gitDir, "hash-object", "-w", "--no-filters", "--stdin")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&entries, "100644 blob %s\t%s\x00", blob, p)
	}
	if _, err := s.run(ctx, env, []byte(entries.String()), gitDir, "update-index", "-z", "--index-info"); err != nil {
		return "", err
	}
	tree, err := s.run(ctx, env, nil, gitDir, "write-tree")
	if err != nil {
		return "", err
	}
	date := fmt.Sprintf("@%d +0000", s.clock.Now().Unix())
	ident := []string{
		"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + committerName, "GIT_COMMITTER_EMAIL=" + committerEmail, "GIT_COMMITTER_DATE=" + date,
	}
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	return s.run(ctx, ident, []byte(message), gitDir, "commit-tree", tree)
}

var identRE = regexp.MustCompile(`^([^<>]*?)\s*<([^<>]*)>$`)

// parseIdent splits "Name <email>"; a bare name has no email.
func parseIdent(author string) (name, email string, err error) {
	author = strings.TrimSpace(author)
	if strings.ContainsAny(author, "\r\n\x00") {
		author = "" // git would cut or refuse it
	}
	if m := identRE.FindStringSubmatch(author); m != nil {
		name, email = m[1], m[2]
	} else if !strings.ContainsAny(author, "<>") {
		name = author
	}
	if strings.TrimSpace(name) == "" {
		return "", "", fault.Invalid("invalid commit author", fault.Field("author", `must be "Name <email>" or a name`))
	}
	return name, email, nil
}

// validPaths refuses file paths git would refuse or that escape the tree.
func validPaths(files map[string][]byte) error {
	for p := range files {
		ok := fs.ValidPath(p) && p != "." && !strings.ContainsAny(p, "\\\x00")
		for part := range strings.SplitSeq(p, "/") {
			ok = ok && !strings.EqualFold(part, ".git")
		}
		if !ok {
			return fault.Invalid("invalid file path", fault.Field("files", "%q must be a relative slash-separated path without '..' or .git", p))
		}
	}
	return nil
}
