package gitserver

import (
	"context"
	"fmt"
	"os"

	"github.com/mlportal/mlportal/internal/fault"
)

// Checkout writes the project's files at ref (a branch, tag, commit, or ""
// for the default branch) into dir, which must not exist yet, and returns
// the commit. The copy is detached from the repository: jobs run in it
// and cannot change the project's history.
func (s *Store) Checkout(ctx context.Context, team, project, ref, dir string) (string, error) {
	repo, err := s.repoDir(team, project)
	if err != nil {
		return "", err
	}
	if ok, err := isRepo(repo); err != nil || !ok {
		if err != nil {
			return "", err
		}
		return "", fault.NotFound("repository", team+"/"+project)
	}
	if ref == "" {
		ref = "HEAD"
	}
	if ref != "HEAD" && !validRef(ref) {
		return "", fault.Invalid("invalid revision", fault.Field("ref", "must be a branch, tag or commit (got %q)", ref))
	}
	commit, err := s.run(ctx, nil, nil, "--git-dir", repo, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return "", fault.New(fault.ErrNotFound, "revision %q does not exist in %s/%s; push it first, or name a branch, tag or commit that exists", ref, team, project)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make the job's workspace: %w", err)
	}
	// archive | tar: the files only, no .git, no hooks run.
	if _, err := s.run(ctx, nil, nil, "--git-dir", repo, "archive", "--format=tar", "-o", dir+".tar", commit); err != nil {
		return "", fmt.Errorf("export %s/%s at %s: %w", team, project, commit, err)
	}
	defer os.Remove(dir + ".tar")
	if err := untar(dir+".tar", dir); err != nil {
		return "", fmt.Errorf("unpack %s/%s at %s: %w", team, project, commit, err)
	}
	return commit, nil
}
