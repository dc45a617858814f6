package github

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
)

// Branch is the default branch of every repository the provider makes; the
// skeleton's workflows run on pushes to it.
const Branch = "main"

// Topic marks the repositories mlportal made; Ensure adds it to Topics.
const Topic = "mlportal"

// Config configures the provider (the `mlportal.scm.github` section).
type Config struct {
	// APIURL is the REST API's root, used as given: "" is github.com; for
	// GitHub Enterprise Server "https://ghe.example.com/api/v3/".
	APIURL string
	// Token is a token with rights to create and administer repositories in
	// the organisations (the package documentation lists the permissions).
	Token string
	// HTTPClient is optional; the default has a 30 s timeout per request.
	HTTPClient *http.Client
	// Clock is optional (the real clock); it dates rate-limit resets.
	Clock clock.Clock
}

// Repository is what Ensure makes.
type Repository struct {
	Owner, Name, Description string // Owner is the team's organisation
	// Files is the first commit's tree: path → content. *.sh files are
	// committed executable.
	Files                            map[string][]byte
	AuthorName, AuthorEmail, Message string
	Environments                     []string          // e.g. staging, production
	Variables                        map[string]string // Actions variables, e.g. MLPORTAL_URL
	Secrets                          map[string]string // Actions secrets, e.g. MLPORTAL_TOKEN
	Topics                           []string          // Topic is always added
}

// Result describes the repository Ensure made or found.
type Result struct {
	CloneURL, HTMLURL, DefaultBranch, Commit string
}

// Provider makes repositories on GitHub. It is safe for concurrent use; two
// Ensures of the same repository at once are not coordinated (the saga runs
// one at a time per project) but end in the same state.
type Provider struct {
	gh    *gh.Client
	log   *slog.Logger
	clock clock.Clock
	host  string // for messages: "GitHub" or "GitHub Enterprise at <host>"
}

// New returns a Provider for cfg. It makes no request.
func New(cfg Config, log *slog.Logger) (*Provider, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, fault.Invalid("the GitHub SCM provider needs a token",
			fault.Field(keyToken, "must be set to a GitHub token that may create and administer repositories in the teams' organisations"))
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := gh.NewClient(hc).WithAuthToken(cfg.Token)
	c.UserAgent = "mlportal"
	p := &Provider{gh: c, log: log, clock: cfg.Clock, host: "GitHub"}
	if p.clock == nil {
		p.clock = clock.Real{}
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fault.Invalid("invalid GitHub API URL",
				fault.Field(keyAPIURL, `must be the REST API's root URL, e.g. "https://ghe.example.com/api/v3/" for GitHub Enterprise Server, or empty for github.com`))
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.BaseURL, c.UploadURL = u, u
		p.host = "GitHub at " + u.Host
	}
	return p, nil
}

// Config keys named in messages, so the platform team knows what to fix.
const (
	keyToken  = "mlportal.scm.github.token"
	keyAPIURL = "mlportal.scm.github.apiURL"
)

// Ensure makes r's repository, or finds it and finishes what a previous run
// left undone; see the package documentation for the steps.
func (p *Provider) Ensure(ctx context.Context, r Repository) (Result, error) {
	if err := r.validate(); err != nil {
		return Result{}, err
	}
	run := &ensure{p: p, r: r}
	res, err := run.do(ctx)
	if err != nil {
		return Result{}, run.failed(err)
	}
	p.log.InfoContext(ctx, "github repository ready", "repository", r.Owner+"/"+r.Name, "commit", res.Commit, "made", run.made)
	return res, nil
}

// ensure is one run of Ensure; made lists what this run changed on GitHub.
type ensure struct {
	p    *Provider
	r    Repository
	made []string
}

func (e *ensure) did(what string) { e.made = append(e.made, what) }

func (e *ensure) do(ctx context.Context) (Result, error) {
	repo, err := e.repository(ctx)
	if err != nil {
		return Result{}, err
	}
	commit, err := e.firstCommit(ctx, repo)
	if err != nil {
		return Result{}, err
	}
	if err := e.topics(ctx, repo); err != nil { // the rest of r.Topics, once the commits proved the repository ours
		return Result{}, err
	}
	if repo.GetDefaultBranch() != Branch {
		if _, _, err := e.p.gh.Repositories.Edit(ctx, e.r.Owner, e.r.Name, &gh.Repository{DefaultBranch: gh.String(Branch)}); err != nil {
			return Result{}, e.p.explain(err, e.r.Owner, opDefaultBranch)
		}
		e.did("default branch " + Branch)
	}
	if err := e.settings(ctx); err != nil {
		return Result{}, err
	}
	return Result{CloneURL: repo.GetCloneURL(), HTMLURL: repo.GetHTMLURL(), DefaultBranch: Branch, Commit: commit}, nil
}

// Delete deletes owner/name if mlportal made it (the rollback of a project).
// A repository that is gone already is success; one mlportal did not make is
// left alone, and that is success too: it was never the project's.
func (p *Provider) Delete(ctx context.Context, owner, name string) error {
	repo, _, err := p.gh.Repositories.Get(ctx, owner, name)
	if status(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return p.explain(err, owner, opDelete)
	}
	if !hasTopic(repo.Topics, Topic) {
		p.log.WarnContext(ctx, "github repository not deleted: mlportal did not make it (no mlportal topic)", "repository", owner+"/"+name)
		return nil
	}
	if _, err := p.gh.Repositories.Delete(ctx, owner, name); err != nil && status(err) != http.StatusNotFound {
		return p.explain(err, owner, opDelete)
	}
	p.log.InfoContext(ctx, "github repository deleted", "repository", owner+"/"+name)
	return nil
}
