package github

import (
	"context"
	"net/http"
	"slices"
	"strings"

	gh "github.com/google/go-github/v62/github"

	"github.com/mlportal/mlportal/internal/fault"
)

// repository finds or creates the repository and refuses one mlportal did
// not make. A repository not yet marked as ours is marked at once, so a crash
// cannot leave an unmarked repository with commits.
func (e *ensure) repository(ctx context.Context) (*gh.Repository, error) {
	r := e.r
	repo, _, err := e.p.gh.Repositories.Get(ctx, r.Owner, r.Name)
	switch {
	case status(err) == http.StatusNotFound:
		repo, err = e.create(ctx)
	case err != nil:
		return nil, e.p.explain(err, r.Owner, opGetRepo)
	default:
		err = e.ours(ctx, repo)
	}
	if err != nil {
		return nil, err
	}
	if !hasTopic(repo.Topics, Topic) {
		return repo, e.topics(ctx, repo)
	}
	return repo, nil
}

// topics adds Topic and r.Topics to the repository's topics, if missing.
func (e *ensure) topics(ctx context.Context, repo *gh.Repository) error {
	want := topics(repo.Topics, append([]string{Topic}, e.r.Topics...))
	if slices.Equal(want, topics(repo.Topics, nil)) {
		return nil
	}
	if _, _, err := e.p.gh.Repositories.ReplaceAllTopics(ctx, e.r.Owner, e.r.Name, want); err != nil {
		return e.p.explain(err, e.r.Owner, opTopics)
	}
	repo.Topics = want
	e.did("topics")
	return nil
}

func (e *ensure) create(ctx context.Context) (*gh.Repository, error) {
	r := e.r
	repo, _, err := e.p.gh.Repositories.Create(ctx, r.Owner, &gh.Repository{
		Name: gh.String(r.Name), Description: gh.String(r.Description), Private: gh.Bool(true), AutoInit: gh.Bool(false),
	})
	switch {
	case err == nil:
		e.did("repository " + r.Owner + "/" + r.Name)
		return repo, nil
	case status(err) == http.StatusNotFound:
		return nil, wrap(fault.New(fault.ErrNotFound,
			"the GitHub organisation %q does not exist on %s, or mlportal's token cannot see it: check the team's GitHub organisation, "+
				"that the token's user or app is a member of it, and (for GitHub Enterprise) %s", r.Owner, e.p.host, keyAPIURL), err)
	case nameTaken(err):
		// Made meanwhile by another run, or there all along but invisible to the token.
		again, _, gerr := e.p.gh.Repositories.Get(ctx, r.Owner, r.Name)
		if gerr != nil {
			return nil, e.taken(err)
		}
		return again, e.ours(ctx, again)
	}
	return nil, e.p.explain(err, r.Owner, opCreateRepo)
}

// ours refuses a repository mlportal did not make. Ours are marked with the
// topic; the one exception is an empty repository with our description, which
// a previous run created and crashed before marking.
func (e *ensure) ours(ctx context.Context, repo *gh.Repository) error {
	if hasTopic(repo.Topics, Topic) {
		return nil
	}
	if repo.GetDescription() == e.r.Description {
		_, _, err := e.p.gh.Git.GetRef(ctx, e.r.Owner, e.r.Name, "heads/"+Branch)
		if status(err) == http.StatusConflict { // no commits at all
			return nil
		}
		if err != nil && status(err) != http.StatusNotFound {
			return e.p.explain(err, e.r.Owner, opGetRepo)
		}
	}
	return e.taken(nil)
}

func (e *ensure) taken(cause error) error {
	return wrap(fault.New(fault.ErrAlreadyExists,
		"a GitHub repository named %s/%s already exists and mlportal did not make it (it lacks the %q topic); "+
			"mlportal leaves it alone: pick another project name, or rename or delete that repository on GitHub",
		e.r.Owner, e.r.Name, Topic), cause)
}

func nameTaken(err error) bool {
	er, ok := err.(*gh.ErrorResponse)
	if !ok || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, fe := range er.Errors {
		if fe.Field == "name" && strings.Contains(fe.Message, "already exists") {
			return true
		}
	}
	return strings.Contains(er.Message, "already exists")
}

func hasTopic(ts []string, t string) bool { return slices.Contains(ts, t) }

// topics returns the sorted union of have and add.
func topics(have, add []string) []string {
	out := slices.Concat(have, add)
	slices.Sort(out)
	return slices.Compact(out)
}
