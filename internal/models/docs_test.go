package models

import (
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDocsAreDeterministic(t *testing.T) {
	m, vs, hist := fixture()
	first := GenerateDocs(m, vs, hist)
	for range 20 { // map iteration order differs from run to run
		again := GenerateDocs(m, vs, hist)
		if again.ETag != first.ETag || len(again.Files) != len(first.Files) {
			t.Fatalf("ETag %s then %s", first.ETag, again.ETag)
		}
		for i := range again.Files {
			if again.Files[i] != first.Files[i] {
				t.Fatalf("%s differs between two generations", again.Files[i].Path)
			}
		}
	}
	m.Tags["owner"] = "someone-else"
	if GenerateDocs(m, vs, hist).ETag == first.ETag {
		t.Error("the ETag did not change with a tag")
	}
	var paths []string
	for _, f := range first.Files {
		paths = append(paths, f.Path)
	}
	want := "mkdocs.yml docs/index.md docs/performance.md docs/signature.md docs/training-data.md docs/dependencies.md docs/deployments.md docs/versions.md"
	if strings.Join(paths, " ") != want {
		t.Errorf("files = %v", paths)
	}
}

func TestEsc(t *testing.T) {
	for in, want := range map[string]string{
		"plain words 42":           "plain words 42",
		"a|b":                      "a&#124;b",
		"<script>x</script>":       "&#60;script&#62;x&#60;&#47;script&#62;",
		"# heading\nnext":          "&#35; heading next",
		"[a](javascript:x)":        "&#91;a&#93;&#40;javascript&#58;x&#41;",
		"*b* _i_ `c` ~~s~~ ==m==":  "&#42;b&#42; &#95;i&#95; &#96;c&#96; &#126;&#126;s&#126;&#126; &#61;&#61;m&#61;&#61;",
		"&amp; \\ --> 1/4 :smile:": "&#38;amp; &#92; &#45;&#45;&#62; 1&#47;4 &#58;smile&#58;",
		"tab\there\x00bell\x07":    "tab herebell",
	} {
		if got := Esc(in); got != want {
			t.Errorf("Esc(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDocsEscapeUserText(t *testing.T) {
	m, vs, hist := fixture()
	vs[0].Requirements = "pkg==1\n```\nnot the end of the block\n"
	d := GenerateDocs(m, vs, hist)
	for _, f := range d.Files {
		for _, bad := range []string{"<script>", "<b>", "](javascript", "# not a heading", "*bold*", "<html>"} {
			if strings.Contains(f.Content, bad) {
				t.Errorf("%s contains %q unescaped", f.Path, bad)
			}
		}
		if f.Path == "docs/dependencies.md" && !strings.Contains(f.Content, "````text\npkg==1\n```\nnot the end of the block\n````") {
			t.Errorf("a fence in the requirements must not end the block:\n%s", f.Content)
		}
	}
}

// TestModelDocsBuildWithTechDocs is the proof that the generated tree is a
// valid TechDocs source: mkdocs with mkdocs-techdocs-core (from PyPI, in a
// cached venv: make techdocs-pyenv) builds it with --strict, and user text
// shows as text in the HTML.
func TestModelDocsBuildWithTechDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("integration tier: runs mkdocs with mkdocs-techdocs-core")
	}
	venv := os.Getenv("MLPORTAL_TECHDOCS_VENV")
	fix := "export MLPORTAL_TECHDOCS_VENV=$(bash internal/models/testdata/techdocs-venv.sh --print-venv) after `make techdocs-pyenv`"
	if venv == "" {
		t.Fatalf("MLPORTAL_TECHDOCS_VENV is not set: %s", fix)
	}
	mkdocs := filepath.Join(venv, "bin", "mkdocs")
	if _, err := os.Stat(mkdocs); err != nil {
		t.Fatalf("MLPORTAL_TECHDOCS_VENV: %v: %s", err, fix)
	}
	m, vs, hist := fixture()
	src := t.TempDir()
	for _, f := range GenerateDocs(m, vs, hist).Files {
		p := filepath.Join(src, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.Content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	site := filepath.Join(t.TempDir(), "site")
	cmd := exec.CommandContext(t.Context(), mkdocs, "build", "--strict", "--clean", "--site-dir", site)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "NO_MKDOCS_2_WARNING=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mkdocs build --strict: %v\n%s", err, out)
	}
	index, err := os.ReadFile(filepath.Join(site, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	// The page's text (character references decoded, as a browser shows
	// it) is the user's text as written; its markup has none of it.
	raw := string(index)
	if text := html.UnescapeString(raw); !strings.Contains(text, "# not a heading <script>alert(1)</script> [link](javascript:x) *bold* | pipe") ||
		strings.Contains(raw, "<script>alert") || strings.Contains(raw, `href="javascript`) || strings.Contains(raw, "<em>bold") {
		t.Errorf("user text is not shown as written in index.html")
	}
	for _, page := range []string{"performance", "signature", "training-data", "dependencies", "deployments", "versions"} {
		b, err := os.ReadFile(filepath.Join(site, page, "index.html"))
		if err != nil {
			t.Fatalf("page %s was not built: %v", page, err)
		}
		if page == "signature" && !strings.Contains(html.UnescapeString(string(b)), "<td>plan|tier</td>") {
			t.Errorf("signature page lacks the escaped column name")
		}
	}
	t.Logf("mkdocs build --strict:\n%s", out)
}
