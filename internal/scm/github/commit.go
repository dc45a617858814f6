package github

import (
	"context"
	"encoding/base64"
	"maps"
	"net/http"
	"slices"

	gh "github.com/google/go-github/v62/github"

	"github.com/mlportal/mlportal/internal/fault"
)

// The committer of first commits, as in the local provider; the author is the caller.
const (
	committerName  = "mlportal"
	committerEmail = "noreply@mlportal.invalid"
)

// The placeholder that makes an empty repository writable by the Git
// database API; the first commit replaces it on main.
const (
	seedPath    = ".mlportal-bootstrap"
	seedMessage = "mlportal: placeholder that makes the empty repository writable; the project's first commit replaces it"
	seedContent = "mlportal replaces this placeholder with the project's first commit.\n"
)

// firstCommit makes main point at a root commit of r.Files and returns it.
// It is done when main already does; it writes only the objects GitHub lacks.
func (e *ensure) firstCommit(ctx context.Context, repo *gh.Repository) (string, error) {
	r := e.r
	tree := buildTree(r.Files)
	head, err := e.head(ctx)
	if err != nil {
		return "", err
	}
	if head != "" {
		c, _, err := e.p.gh.Git.GetCommit(ctx, r.Owner, r.Name, head)
		if err != nil {
			return "", e.p.explain(err, r.Owner, opCommit)
		}
		if c.GetTree().GetSHA() == tree.sha && len(c.Parents) == 0 {
			return head, nil // done by an earlier run
		}
		if c.GetMessage() != seedMessage {
			return "", wrap(fault.New(fault.ErrAlreadyExists,
				"the GitHub repository %s/%s already has commits mlportal did not write on %s; mlportal leaves them alone: "+
					"pick another project name, or delete that repository on GitHub and retry", r.Owner, r.Name, Branch), nil)
		}
	}
	if err := e.upload(ctx, tree); err != nil {
		return "", err
	}
	when := gh.Timestamp{Time: repo.GetCreatedAt().Time}
	commit, _, err := e.p.gh.Git.CreateCommit(ctx, r.Owner, r.Name, &gh.Commit{
		Message:   gh.String(r.Message),
		Tree:      &gh.Tree{SHA: gh.String(tree.sha)},
		Author:    &gh.CommitAuthor{Name: gh.String(r.AuthorName), Email: gh.String(r.authorEmail()), Date: &when},
		Committer: &gh.CommitAuthor{Name: gh.String(committerName), Email: gh.String(committerEmail), Date: &when},
	}, nil)
	if err != nil {
		return "", e.p.explain(err, r.Owner, opCommit)
	}
	ref := &gh.Reference{Ref: gh.String("refs/heads/" + Branch), Object: &gh.GitObject{SHA: commit.SHA}}
	if head == "" {
		_, _, err = e.p.gh.Git.CreateRef(ctx, r.Owner, r.Name, ref)
	} else {
		_, _, err = e.p.gh.Git.UpdateRef(ctx, r.Owner, r.Name, ref, true) // replaces the placeholder
	}
	if err != nil {
		return "", e.p.explain(err, r.Owner, opCommit)
	}
	e.did("first commit " + commit.GetSHA())
	return commit.GetSHA(), nil
}

// head returns the commit main points at, "" when main does not exist. An
// empty repository first gets the placeholder commit.
func (e *ensure) head(ctx context.Context) (string, error) {
	r := e.r
	ref, _, err := e.p.gh.Git.GetRef(ctx, r.Owner, r.Name, "heads/"+Branch)
	switch status(err) {
	case 0:
		return ref.GetObject().GetSHA(), nil
	case http.StatusNotFound:
		return "", nil
	case http.StatusConflict: // "Git Repository is empty."
		res, _, err := e.p.gh.Repositories.CreateFile(ctx, r.Owner, r.Name, seedPath, &gh.RepositoryContentFileOptions{
			Message: gh.String(seedMessage), Content: []byte(seedContent), Branch: gh.String(Branch),
			Committer: &gh.CommitAuthor{Name: gh.String(committerName), Email: gh.String(committerEmail)},
		})
		if err != nil {
			return "", e.p.explain(err, r.Owner, opCommit)
		}
		e.did("placeholder commit")
		return res.Commit.GetSHA(), nil
	}
	return "", e.p.explain(err, r.Owner, opCommit)
}

// upload writes the blobs and the tree unless GitHub has the tree already.
func (e *ensure) upload(ctx context.Context, t tree) error {
	r := e.r
	if _, _, err := e.p.gh.Git.GetTree(ctx, r.Owner, r.Name, t.sha, false); err == nil {
		return nil // written by an earlier run, and with it every blob
	} else if status(err) != http.StatusNotFound {
		return e.p.explain(err, r.Owner, opCommit)
	}
	for _, sha := range slices.Sorted(maps.Keys(t.blobs)) {
		b, _, err := e.p.gh.Git.CreateBlob(ctx, r.Owner, r.Name, &gh.Blob{
			Content: gh.String(base64.StdEncoding.EncodeToString(t.blobs[sha])), Encoding: gh.String("base64"),
		})
		if err != nil {
			return e.p.explain(err, r.Owner, opCommit)
		}
		if b.GetSHA() != sha {
			return errMismatch("blob", sha, b.GetSHA())
		}
	}
	entries := make([]*gh.TreeEntry, 0, len(t.files))
	for _, f := range t.files {
		entries = append(entries, &gh.TreeEntry{Path: gh.String(f.path), Mode: gh.String(f.mode), Type: gh.String("blob"), SHA: gh.String(f.sha)})
	}
	got, _, err := e.p.gh.Git.CreateTree(ctx, r.Owner, r.Name, "", entries)
	if err != nil {
		return e.p.explain(err, r.Owner, opCommit)
	}
	if got.GetSHA() != t.sha {
		return errMismatch("tree", t.sha, got.GetSHA())
	}
	return nil
}
