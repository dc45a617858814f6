package gitserver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
)

func TestCreateWritesFirstCommit(t *testing.T) {
	f := newFixture(t)
	head := f.create()

	if got := f.repoGit("symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD = %s, want refs/heads/main", got)
	}
	if got := f.repoGit("rev-parse", "main"); got != head {
		t.Errorf("main = %s, Create returned %s", got, head)
	}
	want := "Alice <alice@example.com> 1740830400|mlportal <noreply@mlportal.invalid> 1740830400|Create churn from template"
	if got := f.repoGit("log", "-1", "--format=%an <%ae> %at|%cn <%ce> %ct|%B", "main"); got != want {
		t.Errorf("commit = %q, want %q", got, want)
	}
	if got := f.repoGit("ls-tree", "-r", "--name-only", "main"); got != "README.md\ndeploy/app.yml\nsrc/train.py" {
		t.Errorf("tree = %q", got)
	}
	if got := f.repoGit("show", "main:src/train.py"); got != "print('train')" {
		t.Errorf("src/train.py = %q", got)
	}

	// The same inputs and clock give the same commit anywhere.
	other := newStore(t, t.TempDir(), WithClock(f.clk))
	again, err := other.Create(t.Context(), team, project, map[string][]byte{
		"README.md": []byte("# churn\n"), "src/train.py": []byte("print('train')\n"), "deploy/app.yml": []byte("replicas: 1\n"),
	}, "Alice <alice@example.com>", "Create churn from template")
	if err != nil || again != head {
		t.Errorf("Create in another root = %s, %v; want the reproducible %s", again, err, head)
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	f := newFixture(t)
	head := f.create()
	f.clk.Advance(time.Hour)
	again, err := f.store.Create(t.Context(), team, project, map[string][]byte{"other.txt": []byte("x")}, "Bob", "a retry")
	if err != nil {
		t.Fatal(err)
	}
	if again != head {
		t.Errorf("second Create = %s, want the existing head %s", again, head)
	}
	if n := f.repoGit("rev-list", "--all", "--count"); n != "1" {
		t.Errorf("%s commits, want 1", n)
	}
}

// tickingClock moves on at every reading, so racing Creates would write
// different commits if both were allowed to.
type tickingClock struct{ n atomic.Int64 }

func (c *tickingClock) Now() time.Time { return epoch.Add(time.Duration(c.n.Add(1)) * time.Second) }

func TestCreateConcurrently(t *testing.T) {
	root := t.TempDir()
	clk := &tickingClock{}
	// Two Stores on one root stand for two processes: only the branch's
	// compare-and-swap stops them both committing.
	stores := []*Store{newStore(t, root, WithClock(clk)), newStore(t, root, WithClock(clk))}
	heads := make([]string, 8)
	var wg sync.WaitGroup
	for i := range heads {
		wg.Go(func() {
			h, err := stores[i%2].Create(t.Context(), team, project, map[string][]byte{"a.txt": []byte("a")}, "Alice", "init")
			if err != nil {
				t.Error(err)
			}
			heads[i] = h
		})
	}
	wg.Wait()
	for i, h := range heads {
		if h != heads[0] {
			t.Errorf("Create %d returned %s, Create 0 returned %s", i, h, heads[0])
		}
	}
	dir := filepath.Join(root, team, project+".git")
	if n := mustGit(t, root, "--git-dir="+dir, "rev-list", "--all", "--count"); n != "1" {
		t.Errorf("%s commits, want 1", n)
	}
	entries, _ := os.ReadDir(filepath.Join(root, team))
	if len(entries) != 1 || entries[0].Name() != project+".git" {
		t.Errorf("team directory holds %v, want only %s.git", entries, project)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	s := newStore(t, t.TempDir())
	files := map[string][]byte{"a.txt": []byte("a")}
	badNames := []string{"", "a", "ML", "-ml", "ml-", "m_l", "m.l", "..", "../etc", "ml/x", strings.Repeat("a", 64)}
	for _, n := range badNames {
		if _, err := s.Create(t.Context(), n, project, files, "Alice", "init"); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Create(team %q) = %v, want ErrInvalid", n, err)
		}
		if _, err := s.Create(t.Context(), team, n, files, "Alice", "init"); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Create(project %q) = %v, want ErrInvalid", n, err)
		}
		if _, err := s.Exists(t.Context(), n, project); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Exists(team %q) = %v, want ErrInvalid", n, err)
		}
		if err := s.Delete(t.Context(), team, n); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Delete(project %q) = %v, want ErrInvalid", n, err)
		}
	}
	for _, p := range []string{"../x", "/etc/passwd", "a/../b", "./a", "a//b", ".git/config", "sub/.GIT/hooks/x", `a\b`, ""} {
		if _, err := s.Create(t.Context(), team, project, map[string][]byte{p: nil}, "Alice", "init"); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Create(file %q) = %v, want ErrInvalid", p, err)
		}
	}
	for _, a := range []string{"", "  ", "<alice@example.com>", "Al<ice", "Alice\n<a@b>"} {
		if _, err := s.Create(t.Context(), team, project, files, a, "init"); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Create(author %q) = %v, want ErrInvalid", a, err)
		}
	}
	if _, err := s.Create(t.Context(), team, project, files, "Alice", " "); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Create(empty message) = %v, want ErrInvalid", err)
	}
	if entries, _ := os.ReadDir(s.Root()); len(entries) != 0 {
		t.Errorf("refused Creates left %v in the root", entries)
	}
}

func TestExistsAndDelete(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if ok, err := f.store.Exists(ctx, team, project); err != nil || ok {
		t.Fatalf("Exists before Create = %v, %v", ok, err)
	}
	f.create()
	if ok, err := f.store.Exists(ctx, team, project); err != nil || !ok {
		t.Fatalf("Exists after Create = %v, %v", ok, err)
	}
	for range 2 { // deleting twice is fine: rollbacks retry
		if err := f.store.Delete(ctx, team, project); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := f.store.Exists(ctx, team, project); err != nil || ok {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
	if _, err := os.Stat(filepath.Join(f.store.Root(), team)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the emptied team directory remains: %v", err)
	}
}

func TestCloneURL(t *testing.T) {
	s := newStore(t, t.TempDir())
	for _, base := range []string{"http://localhost:8080", "http://localhost:8080/"} {
		if got, want := s.CloneURL(base, team, project), "http://localhost:8080/git/ml-research/churn.git"; got != want {
			t.Errorf("CloneURL(%q) = %q, want %q", base, got, want)
		}
	}
}

// TestIgnoresHostGitConfig proves git runs without the host's environment:
// a global config naming a template directory would otherwise be used.
func TestIgnoresHostGitConfig(t *testing.T) {
	tmpl := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmpl, "description"), []byte("from the host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(cfg, []byte("[init]\n\ttemplateDir = "+tmpl+"\n\tdefaultBranch = trunk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	t.Setenv("GIT_TEMPLATE_DIR", tmpl)
	t.Setenv("GIT_DIR", "/nonexistent")
	f := newFixture(t)
	f.create()
	desc, err := os.ReadFile(filepath.Join(f.store.Root(), team, project+".git", "description"))
	if err == nil && strings.Contains(string(desc), "from the host") {
		t.Error("the repository was made from the host's template: git saw the host's config or environment")
	}
}
