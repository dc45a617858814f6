package github_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scm/github"
	"github.com/mlportal/mlportal/internal/scm/github/githubtest"
)

// TestFailuresSayWhatToDo: each way GitHub refuses becomes a fault error of
// the right kind whose message tells the reader what to do, and names what was
// already made.
func TestFailuresSayWhatToDo(t *testing.T) {
	reset := epoch.Add(42 * time.Minute)
	for _, tc := range []struct {
		name  string
		setup func(f *fixture)
		r     func(r *github.Repository)
		kind  error
		want  []string
		made  bool // the repository exists afterwards
		check func(t *testing.T, f *fixture)
	}{
		{
			name:  "token invalid or expired",
			setup: func(f *fixture) { f.srv.RevokeToken(githubtest.Token) },
			kind:  fault.ErrUnavailable,
			want:  []string{"refused mlportal's token as invalid or expired (401", "mlportal.scm.github.token", "mlportal project retry"},
		},
		{
			name:  "primary rate limit",
			setup: func(f *fixture) { f.srv.RateLimit(reset) },
			kind:  fault.ErrUnavailable,
			want:  []string{"rate limited", "until 2026-01-05T09:42:00Z", "mlportal project retry"},
		},
		{
			name: "secondary rate limit (429)",
			setup: func(f *fixture) {
				f.srv.Inject(githubtest.Fault{Operation: "git/create-blob", Status: http.StatusTooManyRequests,
					Message: "You have exceeded a secondary rate limit.", Header: http.Header{"Retry-After": {"120"}}})
			},
			kind: fault.ErrUnavailable,
			want: []string{"rate limited", "until 2026-01-05T09:02:00Z", "mlportal project retry", "already made on GitHub: repository acme/churn, topics, placeholder commit"},
			made: true,
		},
		{
			name: "token lacks a permission",
			setup: func(f *fixture) {
				f.srv.Inject(githubtest.Fault{Operation: "repos/update-branch-protection", Status: http.StatusForbidden, Message: "Resource not accessible by personal access token"})
			},
			kind: fault.ErrPermissionDenied,
			want: []string{"may not protect branches", `organisation "acme"`, `"Resource not accessible by personal access token"`,
				"Administration: read and write", "mlportal.scm.github.token", "already made on GitHub: repository acme/churn, topics, placeholder commit, first commit "},
			made: true,
		},
		{
			name: "token may not create repositories",
			setup: func(f *fixture) {
				f.srv.Inject(githubtest.Fault{Operation: "repos/create-in-org", Status: http.StatusForbidden, Message: "You need admin access to the organization before adding a repository to it."})
			},
			kind: fault.ErrPermissionDenied,
			want: []string{"may not create private repositories", `organisation "acme"`, "mlportal.scm.github.token"},
		},
		{
			name: "organisation missing",
			r:    func(r *github.Repository) { r.Owner = "no-such-org" },
			kind: fault.ErrNotFound,
			want: []string{`organisation "no-such-org" does not exist`, "cannot see it", "mlportal.scm.github.apiURL"},
		},
		{
			name:  "someone else's repository",
			setup: func(f *fixture) { f.srv.AddRepo(org, "churn", map[string][]byte{"theirs.txt": []byte("x")}) },
			kind:  fault.ErrAlreadyExists,
			want:  []string{"acme/churn already exists and mlportal did not make it", "pick another project name"},
			made:  true,
			check: untouched,
		},
		{
			name: "someone else's repository, found only by the name clash (422)",
			setup: func(f *fixture) {
				f.srv.AddRepo(org, "churn", map[string][]byte{"theirs.txt": []byte("x")})
				f.srv.Inject(githubtest.Fault{Operation: "repos/get", Status: http.StatusNotFound, Times: 1})
			},
			kind: fault.ErrAlreadyExists,
			want: []string{"acme/churn already exists", "pick another project name"},
			made: true,
		},
		{
			name: "someone else's commits in a repository marked as ours",
			setup: func(f *fixture) {
				f.srv.AddRepo(org, "churn", map[string][]byte{"theirs.txt": []byte("x")}, "mlportal")
			},
			kind: fault.ErrAlreadyExists,
			want: []string{"already has commits mlportal did not write", "pick another project name"},
			made: true,
		},
		{
			name: "GitHub failing (5xx)",
			setup: func(f *fixture) {
				f.srv.Inject(githubtest.Fault{Operation: "repos/create-in-org", Status: http.StatusBadGateway})
			},
			kind: fault.ErrUnavailable,
			want: []string{"is failing (HTTP 502)", "create the repository", "mlportal project retry"},
		},
		{
			name:  "GitHub unreachable",
			setup: func(f *fixture) { f.srv.Inject(githubtest.Fault{Drop: true}) },
			kind:  fault.ErrUnavailable,
			want:  []string{"is unreachable", "mlportal project retry"},
		},
		{
			name: "invalid input, refused before any request",
			r:    func(r *github.Repository) { r.Name = "no spaces"; r.Secrets = map[string]string{"GITHUB_TOKEN": "x"} },
			kind: fault.ErrInvalid,
			want: []string{"invalid GitHub repository"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			r := project()
			if tc.r != nil {
				tc.r(&r)
			}
			_, err := f.ensure(r)
			wantFault(t, err, tc.kind, tc.want...)
			if strings.Contains(err.Error(), githubtest.Token) {
				t.Errorf("error %q contains the token", err)
			}
			if _, made := f.srv.Repo(org, "churn"); made != tc.made {
				t.Errorf("repository acme/churn exists = %v, want %v", made, tc.made)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

// TestInvalidInputMakesNoRequest: bad values are refused with the fields
// named, before GitHub is asked anything.
func TestInvalidInputMakesNoRequest(t *testing.T) {
	f := newFixture(t)
	r := project()
	r.Name, r.Topics, r.Files["../escape"] = "a/b", []string{"Not A Topic"}, nil
	_, err := f.ensure(r)
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.ErrInvalid {
		t.Fatalf("err = %v, want invalid", err)
	}
	fields := map[string]bool{}
	for _, fl := range fe.Fields {
		fields[fl.Field] = true
	}
	for _, want := range []string{"name", "topics", "files"} {
		if !fields[want] {
			t.Errorf("fields %v lack %s", fe.Fields, want)
		}
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("%d requests made for invalid input", n)
	}
}

// untouched checks that nothing was written to someone else's repository.
func untouched(t *testing.T, f *fixture) {
	t.Helper()
	for _, r := range f.srv.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("%s was sent to someone else's repository", r)
		}
	}
}
