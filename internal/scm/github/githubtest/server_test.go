package githubtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/scm/github/githubtest"
)

// do sends one request to the stand-in and returns the status and GitHub's message.
func do(t *testing.T, s *githubtest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+githubtest.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// TestRejectsWhatGitHubDoesNotDescribe: the stand-in refuses requests that are
// not in GitHub's REST description, so the provider cannot pass by calling
// endpoints or sending bodies GitHub does not have.
func TestRejectsWhatGitHubDoesNotDescribe(t *testing.T) {
	s := githubtest.New(t, githubtest.WithOrg("acme"))
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     []string // in the message
	}{
		{"unknown path", "GET", "/repos/acme/churn/no-such-thing", "", 400, []string{"GET /repos/acme/churn/no-such-thing is not an operation"}},
		{"unknown method", "DELETE", "/orgs/acme/repos", "", 400, []string{"is not an operation in GitHub's REST API description"}},
		{"missing required property", "POST", "/orgs/acme/repos", `{"private":true}`, 400, []string{"repos/create-in-org", `property "name" is missing`}},
		{"missing required in nested git api", "POST", "/repos/acme/churn/git/refs", `{"ref":"refs/heads/main"}`, 400, []string{"git/create-ref", `"sha" is missing`}},
		{"wrong type", "PUT", "/repos/acme/churn/topics", `{"names":"mlportal"}`, 400, []string{"repos/replace-all-topics", "/names"}},
		{"described but not implemented", "GET", "/repos/acme/churn/issues", "", 501, []string{"does not implement issues/list-for-repo"}},
		{"described and implemented", "POST", "/orgs/acme/repos", `{"name":"churn","private":true}`, 201, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, s, tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("%s %s = %d %v, want %d", tc.method, tc.path, status, body, tc.status)
			}
			msg, _ := body["message"].(string)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
	reqs := s.Requests()
	if got := reqs[len(reqs)-1]; got.Operation != "repos/create-in-org" || got.Status != 201 {
		t.Errorf("last recorded request = %+v, want repos/create-in-org answered 201", got)
	}
}

// TestGitObjectsAreGits: blobs, trees and commits made through the stand-in
// have the SHAs real git gives the same content, so the provider's own
// hashing is checked against git's, not against another guess.
func TestGitObjectsAreGits(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is not installed; the integration tier needs it (apt-get install git)")
	}
	s := githubtest.New(t, githubtest.WithOrg("acme"))
	s.AddRepo("acme", "objs", map[string][]byte{"seed": []byte("x")}, "mlportal")

	post := func(path, body string) string {
		t.Helper()
		status, out := do(t, s, "POST", "/repos/acme/objs/"+path, body)
		if status != http.StatusCreated {
			t.Fatalf("POST %s = %d %v", path, status, out)
		}
		return out["sha"].(string)
	}
	blob := post("git/blobs", `{"content":"IyEvYmluL3NoCmVjaG8gaGkK","encoding":"base64"}`) // "#!/bin/sh\necho hi\n"
	readme := post("git/blobs", `{"content":"hello\n","encoding":"utf-8"}`)
	tree := post("git/trees", `{"tree":[{"path":"scripts/run.sh","mode":"100755","type":"blob","sha":"`+blob+`"},`+
		`{"path":"README.md","mode":"100644","type":"blob","sha":"`+readme+`"},{"path":"scripts.txt","mode":"100644","type":"blob","sha":"`+readme+`"}]}`)
	commit := post("git/commits", `{"message":"first\n","tree":"`+tree+`","author":{"name":"Ada","email":"ada@example.com","date":"2026-01-05T09:00:00Z"},`+
		`"committer":{"name":"mlportal","email":"noreply@mlportal.invalid","date":"2026-01-05T09:00:00Z"}}`)

	dir := t.TempDir()
	run := func(stdin string, env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Env = append([]string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir, "GIT_INDEX_FILE=" + filepath.Join(dir, "index")}, env...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("", nil, "init", "--quiet", "--bare", ".")
	if got := run("#!/bin/sh\necho hi\n", nil, "hash-object", "-w", "--stdin"); got != blob {
		t.Errorf("blob = %s, git says %s", blob, got)
	}
	run("hello\n", nil, "hash-object", "-w", "--stdin")
	run("100755 "+blob+"\tscripts/run.sh\n100644 "+readme+"\tREADME.md\n100644 "+readme+"\tscripts.txt\n", nil, "update-index", "--index-info")
	if got := run("", nil, "write-tree"); got != tree {
		t.Errorf("tree = %s, git says %s", tree, got)
	}
	env := []string{"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_AUTHOR_DATE=@1767603600 +0000",
		"GIT_COMMITTER_NAME=mlportal", "GIT_COMMITTER_EMAIL=noreply@mlportal.invalid", "GIT_COMMITTER_DATE=@1767603600 +0000"}
	if got := run("first\n", env, "commit-tree", tree); got != commit {
		t.Errorf("commit = %s, git says %s", commit, got)
	}
}
