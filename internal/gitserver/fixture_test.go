package gitserver

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
)

// testAuth authenticates a fixed set of tokens, as token.Service would.
type testAuth map[string]identity.Principal

func (a testAuth) Authenticate(_ context.Context, bearer string) (identity.Principal, error) {
	if p, ok := a[bearer]; ok {
		return p, nil
	}
	return identity.Principal{}, fault.New(fault.ErrUnauthenticated, "the token is not valid")
}

// testTeams holds memberships, as team.Service would.
type testTeams map[string]identity.Membership

func (t testTeams) Membership(_ context.Context, team string) (identity.Membership, error) {
	if m, ok := t[team]; ok {
		return m, nil
	}
	return identity.Membership{}, fault.NotFound("team", team)
}

var (
	_ Authenticator = testAuth(nil)
	_ Authorizer    = testTeams(nil)
)

const (
	team    = "ml-research"
	project = "churn"

	tokAlice = "tok-alice" // developer: reads and pushes
	tokDave  = "tok-dave"  // viewer: reads only
	tokEve   = "tok-eve"   // not in the team
	tokCI    = "tok-ci"    // an mlportal token scoped to the team with read
)

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func user(sub string) identity.Principal {
	return identity.Principal{Subject: sub, Kind: identity.KindBackstageUser}
}

var (
	principals = testAuth{
		tokAlice: user("user:default/alice"),
		tokDave:  user("user:default/dave"),
		tokEve:   user("user:default/eve"),
		tokCI: {Subject: "user:default/alice", Kind: identity.KindToken, TokenID: "t1",
			TokenTeam: team, TokenVerbs: []identity.Verb{identity.VerbRead}},
	}
	memberships = testTeams{team: {Team: team, Members: []identity.Member{
		{Subject: "user:default/alice", Role: identity.RoleDeveloper},
		{Subject: "user:default/dave", Role: identity.RoleViewer},
	}}}
)

type fixture struct {
	t     *testing.T
	store *Store
	srv   *httptest.Server
	clk   *clock.Fake
}

func newStore(t *testing.T, root string, opts ...Option) *Store {
	t.Helper()
	s, err := New(root, "", slog.New(slog.NewTextHandler(testWriter{t}, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := clock.NewFake(epoch)
	s := newStore(t, t.TempDir(), WithClock(clk))
	srv := httptest.NewServer(s.Handler(principals, memberships))
	t.Cleanup(srv.Close)
	return &fixture{t: t, store: s, srv: srv, clk: clk}
}

// create makes the standard test repository and returns its head.
func (f *fixture) create() string {
	f.t.Helper()
	head, err := f.store.Create(f.t.Context(), team, project, map[string][]byte{
		"README.md":      []byte("# churn\n"),
		"src/train.py":   []byte("print('train')\n"),
		"deploy/app.yml": []byte("replicas: 1\n"),
	}, "Alice <alice@example.com>", "Create churn from template")
	if err != nil {
		f.t.Fatal(err)
	}
	return head
}

// url is the clone URL, with a token as Basic password when tok is not "".
func (f *fixture) url(tok string) string {
	u := f.store.CloneURL(f.srv.URL, team, project)
	if tok != "" {
		u = strings.Replace(u, "http://", "http://x:"+tok+"@", 1)
	}
	return u
}

// git runs the real git client in dir with a clean environment: no host
// config, credential helpers, proxies or prompts.
func git(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Tester", "GIT_AUTHOR_EMAIL=tester@example.com",
		"GIT_COMMITTER_NAME=Tester", "GIT_COMMITTER_EMAIL=tester@example.com",
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// repoGit runs git against the stored bare repository.
func (f *fixture) repoGit(args ...string) string {
	f.t.Helper()
	return mustGit(f.t, f.t.TempDir(), append([]string{"--git-dir=" + filepath.Join(f.store.Root(), team, project+".git")}, args...)...)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
