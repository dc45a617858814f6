package gitserver

import (
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCloneWithTokenInURL(t *testing.T) {
	f := newFixture(t)
	head := f.create()
	work := filepath.Join(t.TempDir(), "churn")
	mustGit(t, ".", "clone", "--quiet", f.url(tokAlice), work)

	if got := mustGit(t, work, "rev-parse", "HEAD"); got != head {
		t.Errorf("cloned HEAD = %s, want %s", got, head)
	}
	if got := mustGit(t, work, "branch", "--show-current"); got != "main" {
		t.Errorf("cloned branch = %s, want main", got)
	}
	if got := mustGit(t, work, "log", "-1", "--format=%s"); got != "Create churn from template" {
		t.Errorf("commit message = %q", got)
	}
	for name, want := range map[string]string{"README.md": "# churn\n", "src/train.py": "print('train')\n", "deploy/app.yml": "replicas: 1\n"} {
		if got, err := os.ReadFile(filepath.Join(work, name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestCloneWithBearerHeader(t *testing.T) {
	f := newFixture(t)
	head := f.create()
	work := filepath.Join(t.TempDir(), "churn")
	mustGit(t, ".", "-c", "http.extraHeader=Authorization: Bearer "+tokCI, "clone", "--quiet", f.url(""), work)
	if got := mustGit(t, work, "rev-parse", "HEAD"); got != head {
		t.Errorf("cloned HEAD = %s, want %s", got, head)
	}
}

func TestDeveloperPushLands(t *testing.T) {
	f := newFixture(t)
	f.create()
	// A hook records the environment git http-backend gave receive-pack.
	envFile := filepath.Join(t.TempDir(), "env")
	hook := filepath.Join(f.store.Root(), team, project+".git", "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nenv > '"+envFile+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "churn")
	mustGit(t, ".", "clone", "--quiet", f.url(tokAlice), work)

	// A file larger than the post buffer makes git send a chunked body,
	// which the handler must spool for CGI.
	big := make([]byte, 256<<10)
	_, _ = rand.Read(big)
	if err := os.WriteFile(filepath.Join(work, "model.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	mustGit(t, work, "add", "model.bin")
	mustGit(t, work, "commit", "--quiet", "-m", "Add model")
	mine := mustGit(t, work, "rev-parse", "HEAD")
	mustGit(t, work, "-c", "http.postBuffer=65536", "push", "--quiet", "origin", "main")

	if got := f.repoGit("rev-parse", "main"); got != mine {
		t.Errorf("server main = %s, want the pushed %s", got, mine)
	}
	if got := f.repoGit("cat-file", "-s", "main:model.bin"); got != "262144" {
		t.Errorf("server model.bin has %s bytes, want 262144", got)
	}
	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatalf("the pre-receive hook did not run: %v", err)
	}
	if strings.Contains(string(env), "AUTHORIZATION") {
		t.Errorf("the token reached git's environment:\n%s", env)
	}
	if !strings.Contains(string(env), "REMOTE_USER=user:default/alice\n") {
		t.Errorf("REMOTE_USER is not the pusher:\n%s", env)
	}
}

func TestReadersCannotPush(t *testing.T) {
	for name, tok := range map[string]string{"viewer": tokDave, "read-only token": tokCI} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			head := f.create()
			work := filepath.Join(t.TempDir(), "churn")
			mustGit(t, ".", "clone", "--quiet", f.url(tok), work)
			mustGit(t, work, "commit", "--quiet", "--allow-empty", "-m", "sneaky")
			out, err := git(t, work, "push", "origin", "main")
			if err == nil || !strings.Contains(out, "403") {
				t.Errorf("push = %v, %s; want a refusal with 403", err, out)
			}
			if got := f.repoGit("rev-parse", "main"); got != head {
				t.Errorf("server main moved to %s", got)
			}
			if got := status(t, f, http.MethodPost, "/git/ml-research/churn.git/git-receive-pack", tok); got != http.StatusForbidden {
				t.Errorf("POST git-receive-pack = %d, want 403", got)
			}
		})
	}
}

func TestStrangerCannotClone(t *testing.T) {
	f := newFixture(t)
	f.create()
	out, err := git(t, ".", "clone", f.url(tokEve), filepath.Join(t.TempDir(), "churn"))
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("clone = %v, %s; want a refusal with 403", err, out)
	}
	if got := status(t, f, http.MethodPost, "/git/ml-research/churn.git/git-upload-pack", tokEve); got != http.StatusForbidden {
		t.Errorf("POST git-upload-pack = %d, want 403", got)
	}
}

func TestCredentialsAreRequired(t *testing.T) {
	f := newFixture(t)
	f.create()
	const refs = "/git/ml-research/churn.git/info/refs?service=git-upload-pack"
	for name, set := range map[string]func(*http.Request){
		"none":          func(*http.Request) {},
		"unknown token": func(r *http.Request) { r.SetBasicAuth("x", "nope") },
		"empty pass":    func(r *http.Request) { r.SetBasicAuth(tokAlice, "") },
		"bad bearer":    func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") },
		"other scheme":  func(r *http.Request) { r.Header.Set("Authorization", "token "+tokAlice) },
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+refs, nil)
			set(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="mlportal"` {
				t.Errorf("got %d, WWW-Authenticate %q; want 401 with the Basic challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if out, err := git(t, ".", "clone", f.url(""), filepath.Join(t.TempDir(), "churn")); err == nil {
		t.Errorf("clone without credentials succeeded: %s", out)
	}
	if got := status(t, f, http.MethodGet, refs, tokAlice); got != http.StatusOK {
		t.Errorf("with credentials: %d, want 200", got)
	}
}

func TestRefusesBadPaths(t *testing.T) {
	f := newFixture(t)
	f.create()
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/git/ml-research/churn.git/info/refs?service=git-upload-pack", http.StatusOK},
		{"GET", "/git/ml-research/nope.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"GET", "/git/nope/churn.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"GET", "/git/ML-Research/churn.git/info/refs?service=git-upload-pack", http.StatusBadRequest},
		{"GET", "/git/ml-research/../churn.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"GET", "/git/../ml-research/churn.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"GET", "/git/../churn.git/info/refs?service=git-upload-pack", http.StatusBadRequest},
		{"GET", "/git/ml-research/%2e%2e.git/info/refs?service=git-upload-pack", http.StatusBadRequest},
		{"GET", "/git/ml-research/churn.git/../../../etc/passwd", http.StatusNotFound},
		{"GET", "/git/ml-research/a%2Fb.git/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"GET", "/git/ml-research/churn/info/refs?service=git-upload-pack", http.StatusNotFound},
		{"GET", "/git/ml-research/churn.git/config", http.StatusNotFound},
		{"GET", "/git/ml-research/churn.git/HEAD", http.StatusNotFound},
		{"GET", "/git/ml-research/churn.git/info/refs", http.StatusNotFound},
		{"GET", "/git/ml-research/churn.git/objects/info/packs", http.StatusNotFound},
		{"GET", "/git/ml-research/churn.git/git-upload-pack", http.StatusMethodNotAllowed},
		{"GET", "/git/m/churn.git/info/refs?service=git-upload-pack", http.StatusBadRequest},
		{"GET", "/git/" + strings.Repeat("a", 64) + "/churn.git/info/refs?service=git-upload-pack", http.StatusBadRequest},
		{"GET", "/other/ml-research/churn.git/info/refs?service=git-upload-pack", http.StatusNotFound},
	} {
		if got := status(t, f, c.method, c.path, tokAlice); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, got, c.want)
		}
	}
}

// status sends a raw request, its path as written (no cleaning), with tok
// as the Basic password.
func status(t *testing.T, f *fixture, method, path, tok string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("x", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
