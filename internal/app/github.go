package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/scm/github"
)

// githubSCM adapts the GitHub provider to project.SCM: the repository is
// created in the team's organisation (mlportal.scm.github.organizations,
// else defaultOrganization) with the staging and production environments
// the skeleton's pipeline deploys through.
type githubSCM struct {
	prov       *github.Provider
	orgs       map[string]string
	defaultOrg string
}

var _ project.SCM = (*githubSCM)(nil)

// Environments every project's repository gets.
var githubEnvironments = []string{"staging", "production"}

func newGitHubSCM(cfg config.GitHubConfig, clk clock.Clock, log *slog.Logger) (*githubSCM, error) {
	prov, err := github.New(github.Config{APIURL: cfg.APIURL, Token: cfg.Token, Clock: clk}, log)
	if err != nil {
		return nil, fmt.Errorf("mlportal.scm.github: %w", err)
	}
	return &githubSCM{prov: prov, orgs: cfg.Organizations, defaultOrg: cfg.DefaultOrganization}, nil
}

func (g *githubSCM) org(team string) (string, error) {
	if o := g.orgs[team]; o != "" {
		return o, nil
	}
	if g.defaultOrg != "" {
		return g.defaultOrg, nil
	}
	return "", fault.New(fault.ErrUnavailable, "team %s has no GitHub organisation; ask your platform team to add it to mlportal.scm.github.organizations", team)
}

func (g *githubSCM) Ensure(ctx context.Context, spec project.RepoSpec) (project.Repo, error) {
	owner, err := g.org(spec.Team)
	if err != nil {
		return project.Repo{}, err
	}
	name, email := authorOf(spec.Author)
	res, err := g.prov.Ensure(ctx, github.Repository{Owner: owner, Name: spec.Project, Description: spec.Description, Files: spec.Files,
		AuthorName: name, AuthorEmail: email, Message: spec.Message, Environments: githubEnvironments,
		Variables: spec.Variables, Secrets: spec.Secrets, Topics: []string{"ml-project"}})
	if err != nil {
		return project.Repo{}, err
	}
	web := strings.TrimSuffix(res.HTMLURL, "/")
	return project.Repo{CloneURL: res.CloneURL, WebURL: web, Commit: res.Commit,
		CatalogInfoURL: web + "/blob/" + res.DefaultBranch + "/catalog-info.yaml"}, nil
}

// Delete removes the repository if mlportal made it (the provider checks
// its topic, so a foreign repository of the same name is never deleted).
func (g *githubSCM) Delete(ctx context.Context, team, proj string) error {
	owner, err := g.org(team)
	if err != nil {
		return err
	}
	return g.prov.Delete(ctx, owner, proj)
}

// authorOf turns the requester (an entity ref such as user:default/alice,
// or "Name <email>") into a commit author.
func authorOf(subject string) (name, email string) {
	if n, e, ok := strings.Cut(subject, " <"); ok && strings.HasSuffix(e, ">") {
		return n, strings.TrimSuffix(e, ">")
	}
	name = subject
	if i := strings.LastIndex(subject, "/"); i >= 0 {
		name = subject[i+1:]
	}
	if name == "" {
		name = "mlportal"
	}
	return name, "noreply@mlportal.invalid"
}
