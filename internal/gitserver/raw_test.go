package gitserver

import (
	"bytes"
	"crypto/rand"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/identity"
)

const rawBase = "/git/ml-research/churn.git/raw/"

// rawGet sends method to the server at path, as written, with tok as the
// Basic password and extra headers; it returns the response and its body.
func rawGet(t *testing.T, srv *httptest.Server, method, path, tok string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.SetBasicAuth("x", tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestRawReadsAFileAtARef(t *testing.T) {
	f := newFixture(t)
	head := f.create()
	blob := f.repoGit("rev-parse", "main:README.md")

	for _, ref := range []string{"main", "HEAD", head, head[:12], "refs/heads/main"} {
		resp, body := rawGet(t, f.srv, http.MethodGet, rawBase+ref+"/README.md", tokAlice)
		if resp.StatusCode != http.StatusOK || body != "# churn\n" {
			t.Errorf("%s: %d %q, want 200 with the file", ref, resp.StatusCode, body)
			continue
		}
		for k, want := range map[string]string{
			"Content-Type":           "text/plain; charset=utf-8",
			"Content-Length":         "8",
			"ETag":                   `"` + blob + `"`,
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "private, no-cache",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", ref, k, got, want)
			}
		}
	}

	resp, body := rawGet(t, f.srv, http.MethodGet, rawBase+"main/deploy/app.yml", tokAlice)
	if resp.StatusCode != http.StatusOK || body != "replicas: 1\n" || resp.Header.Get("Content-Type") != textPlain {
		t.Errorf("nested file: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = rawGet(t, f.srv, http.MethodHead, rawBase+"main/src/train.py", tokAlice)
	if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Length") != "15" ||
		resp.Header.Get("ETag") != `"`+f.repoGit("rev-parse", "main:src/train.py")+`"` {
		t.Errorf("HEAD: %d, %v, body %q", resp.StatusCode, resp.Header, body)
	}
}

func TestRawReadsWhatWasPushed(t *testing.T) {
	f := newFixture(t)
	f.create()
	work := filepath.Join(t.TempDir(), "churn")
	mustGit(t, ".", "clone", "--quiet", f.url(tokAlice), work)

	// On main: a changed catalog-info.yaml, a binary and a name with spaces.
	catalog := "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: churn\n"
	model := make([]byte, 100<<10)
	_, _ = rand.Read(model)
	model[0] = 0 // surely not text
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("catalog-info.yaml", []byte(catalog))
	write("models/model.bin", model)
	write("docs/my notes.md", []byte("# notes\n"))
	mustGit(t, work, "add", ".")
	mustGit(t, work, "commit", "--quiet", "-m", "Add catalog, model and notes")
	mustGit(t, work, "tag", "v1")
	// On a branch with a slash: a different README.
	mustGit(t, work, "checkout", "--quiet", "-b", "feature/x")
	write("README.md", []byte("# churn, feature x\n"))
	mustGit(t, work, "commit", "--quiet", "-am", "Feature x")
	mustGit(t, work, "push", "--quiet", "origin", "main", "feature/x", "v1")

	for _, c := range []struct{ path, ctype, want string }{
		{"main/catalog-info.yaml", textPlain, catalog},
		{"v1/catalog-info.yaml", textPlain, catalog},
		{"main/models/model.bin", "application/octet-stream", string(model)},
		{"main/docs/my%20notes.md", textPlain, "# notes\n"},
		{"feature/x/README.md", textPlain, "# churn, feature x\n"},
		{"main/README.md", textPlain, "# churn\n"},
	} {
		resp, body := rawGet(t, f.srv, http.MethodGet, rawBase+c.path, tokAlice)
		if resp.StatusCode != http.StatusOK || body != c.want || resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s: %d, %q, %d bytes; want 200, %q, %d bytes", c.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), len(body), c.ctype, len(c.want))
		}
	}
}

func TestRawETag(t *testing.T) {
	f := newFixture(t)
	f.create()
	const file = rawBase + "main/README.md"
	first, _ := rawGet(t, f.srv, http.MethodGet, file, tokAlice)
	etag := first.Header.Get("ETag")
	for _, c := range []struct {
		ifNoneMatch string
		want        int
	}{
		{etag, http.StatusNotModified},
		{"W/" + etag, http.StatusNotModified},
		{`"other", ` + etag, http.StatusNotModified},
		{"*", http.StatusNotModified},
		{`"0123456789abcdef0123456789abcdef01234567"`, http.StatusOK},
		{strings.Trim(etag, `"`), http.StatusOK}, // unquoted is not a match
	} {
		resp, body := rawGet(t, f.srv, http.MethodGet, file, tokAlice, "If-None-Match", c.ifNoneMatch)
		if resp.StatusCode != c.want {
			t.Errorf("If-None-Match %s: %d, want %d", c.ifNoneMatch, resp.StatusCode, c.want)
		}
		if c.want == http.StatusNotModified && (body != "" || resp.Header.Get("ETag") != etag) {
			t.Errorf("304 has body %q, ETag %q", body, resp.Header.Get("ETag"))
		}
	}
}

func TestRawNotFound(t *testing.T) {
	f := newFixture(t)
	f.create()
	// A repository nobody has committed to: its main is unborn.
	mustGit(t, ".", "init", "--quiet", "--bare", "--initial-branch=main", filepath.Join(f.store.Root(), team, "empty.git"))
	for _, c := range []struct{ path, msg string }{
		{"/git/ml-research/nope.git/raw/main/README.md", "repository not found"},
		{"/git/nope/churn.git/raw/main/README.md", "repository not found"},
		{rawBase + "nope/README.md", `no branch, tag or commit "nope" in ml-research/churn`},
		{rawBase + "0123456789abcdef0123456789abcdef01234567/README.md", "no branch, tag or commit"},
		{rawBase + "main/nope.yaml", "nope.yaml not found at main"},
		{rawBase + "main/src", "src is a directory at main"},
		{rawBase + "main/src/train.py/x", "src/train.py/x not found at main"},
		{"/git/ml-research/empty.git/raw/main/README.md", `no branch, tag or commit "main"`},
	} {
		resp, body := rawGet(t, f.srv, http.MethodGet, c.path, tokAlice)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, c.msg) {
			t.Errorf("%s: %d %q, want 404 saying %q", c.path, resp.StatusCode, body, c.msg)
		}
	}
}

func TestRawRefusesBadRefsAndPaths(t *testing.T) {
	f := newFixture(t)
	f.create()
	for _, p := range []string{
		"main~1/README.md",
		"main%5E/README.md",
		"main@%7Bu%7D/README.md",
		"@/README.md",
		"-n/README.md",
		"--output=x/README.md",
		":/churn/README.md",
		"ma:in/README.md",
		"ma%20in/README.md",
		"main..x/README.md",
		".hidden/README.md",
		"main.lock/README.md",
		"ma*n/README.md",
		"main",
		"main/",
		"main//README.md",
		"main/../README.md",
		"main/./README.md",
		"main/src%00/train.py",
		"main/a%0Ab",
		"main/a%5Cb",
		"",
	} {
		resp, body := rawGet(t, f.srv, http.MethodGet, rawBase+p, tokAlice)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid") {
			t.Errorf("%q: %d %q, want 400", p, resp.StatusCode, body)
		}
	}
	// The message says how to fix the ref.
	_, body := rawGet(t, f.srv, http.MethodGet, rawBase+"main~1/README.md", tokAlice)
	if !strings.Contains(body, "e.g. main") {
		t.Errorf("message %q does not say what a ref looks like", body)
	}
}

func TestRawAuthorization(t *testing.T) {
	f := newFixture(t)
	f.create()
	// A Backstage service, e.g. the catalog reading catalog-info.yaml.
	const tokSvc = "tok-catalog"
	auth := maps.Clone(principals)
	auth[tokSvc] = identity.Principal{Subject: "plugin:catalog", Kind: identity.KindBackstageService}
	srv := httptest.NewServer(f.store.Handler(auth, memberships))
	t.Cleanup(srv.Close)

	const file = rawBase + "main/README.md"
	for _, c := range []struct {
		name, tok string
		want      int
	}{
		{"developer", tokAlice, http.StatusOK},
		{"viewer", tokDave, http.StatusOK},
		{"read-only token", tokCI, http.StatusOK},
		{"Backstage service", tokSvc, http.StatusOK},
		{"stranger", tokEve, http.StatusForbidden},
		{"unknown token", "nope", http.StatusUnauthorized},
		{"no credentials", "", http.StatusUnauthorized},
	} {
		resp, body := rawGet(t, srv, http.MethodGet, file, c.tok)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %q, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if c.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != challenge {
			t.Errorf("%s: no Basic challenge", c.name)
		}
	}
	// Bearer works as for clones; the 404 of a missing file needs read first.
	if resp, _ := rawGet(t, srv, http.MethodGet, file, "", "Authorization", "Bearer "+tokCI); resp.StatusCode != http.StatusOK {
		t.Errorf("Bearer: %d, want 200", resp.StatusCode)
	}
	if resp, _ := rawGet(t, srv, http.MethodGet, rawBase+"main/nope", tokEve); resp.StatusCode != http.StatusForbidden {
		t.Errorf("stranger on a missing file: %d, want 403", resp.StatusCode)
	}
	// A service reads but never pushes.
	if got := status(t, &fixture{srv: srv}, http.MethodPost, "/git/ml-research/churn.git/git-receive-pack", tokSvc); got != http.StatusForbidden {
		t.Errorf("service push: %d, want 403", got)
	}
	resp, _ := rawGet(t, srv, http.MethodPost, file, tokAlice)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405 with GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestValidRef(t *testing.T) {
	for ref, want := range map[string]bool{
		"main": true, "HEAD": true, "v1.2.3": true, "feature/x": true, "refs/heads/main": true,
		"0123456789abcdef0123456789abcdef01234567": true, "release-2025_03": true,
		"": false, "@": false, "-x": false, "main.": false, "a..b": false, "a@{1}": false,
		"a b": false, "a~1": false, "a^": false, "a:b": false, "a?": false, "a*": false, "a[": false,
		`a\b`: false, "a\x01": false, "a\x7f": false, "a//b": false, "/a": false, "a/": false,
		".a": false, "a/.b": false, "a.lock": false, "a/b.lock/c": false,
	} {
		if got := validRef(ref); got != want {
			t.Errorf("validRef(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"catalog-info.yaml": textPlain, "a/b.YML": textPlain, "README.md": textPlain, "x.py": textPlain,
		"index.html": textPlain, "logo.svg": textPlain, "app.js": textPlain, "Dockerfile": textPlain,
		"a/.gitignore": textPlain, "metrics.json": "application/json", "plot.png": "image/png",
		"model.bin": "", "data": "", "weights.pt": "",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestLooksText(t *testing.T) {
	euro := []byte("price: 3€") // '€' is three bytes
	for _, c := range []struct {
		name     string
		head     []byte
		complete bool
		want     bool
	}{
		{"ascii", []byte("a: 1\n"), true, true},
		{"utf-8", euro, true, true},
		{"empty", nil, true, true},
		{"cut rune in a partial head", euro[:len(euro)-1], false, true},
		{"cut rune at the end of the file", euro[:len(euro)-1], true, false},
		{"NUL", []byte("a\x00b"), true, false},
		{"latin-1", []byte("caf\xe9 au lait"), false, false},
		{"binary", bytes.Repeat([]byte{0xff, 0xfe}, 10), false, false},
	} {
		if got := looksText(c.head, c.complete); got != c.want {
			t.Errorf("%s: looksText = %v, want %v", c.name, got, c.want)
		}
	}
}

// BenchmarkRawRead measures one authorized raw read of a small file over
// HTTP: authentication, ref and path lookup (one git process) and the
// content (another).
func BenchmarkRawRead(b *testing.B) {
	s, err := New(b.TempDir(), "", nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Create(b.Context(), team, project, map[string][]byte{"catalog-info.yaml": []byte("kind: System\n")}, "Alice", "first"); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler(principals, memberships))
	b.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+rawBase+"main/catalog-info.yaml", nil)
	req.SetBasicAuth("x", tokAlice)
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
