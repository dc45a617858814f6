package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/executor"
)

// The project's requirements.txt becomes one virtualenv, cached by its
// hash and shared by every job that needs it, even two preparing it at
// once. pip installs from the index pip is configured with on this machine
// (one small pure-Python package).
func TestVirtualenvFromRequirements(t *testing.T) {
	needProcesses(t)
	needPython(t, "venv", "ensurepip")
	cache := t.TempDir()
	e, rec := newExecutor(t, Config{CacheDir: cache})
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "requirements.txt"), []byte("six==1.17.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	show := []string{"python", "-c", `import os, sys, six; print(six.__version__, sys.prefix == os.environ["VIRTUAL_ENV"], os.environ["VIRTUAL_ENV"])`}
	for _, id := range []string{"venv-a", "venv-b"} { // at once: one prepares, the other waits
		start(t, e, executor.Spec{JobID: id, Command: show, Workspace: ws})
	}
	venvs := map[string]bool{}
	for _, id := range []string{"venv-a", "venv-b"} {
		st := waitFinal(t, e, id)
		l := logsOf(t, e, id)
		if st.Phase != executor.PhaseSucceeded {
			t.Fatalf("%s: %s %q; logs:\n%s", id, st.Phase, st.Message, l)
		}
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "1.17.0" || f[1] != "True" {
			t.Fatalf("%s printed %q, want six 1.17.0 from the venv", id, l)
		}
		venvs[f[2]] = true
	}
	if len(venvs) != 1 {
		t.Fatalf("the jobs ran in different venvs: %v", venvs)
	}
	for v := range venvs {
		if filepath.Dir(filepath.Dir(v)) != cache {
			t.Errorf("venv %s is not in the cache %s", v, cache)
		}
	}
	if n := rec.count("creating python environment"); n != 1 {
		t.Errorf("the venv was created %d times, want once", n)
	}

	// Cached: a later job does not prepare again.
	start(t, e, executor.Spec{JobID: "venv-c", Command: show, Workspace: ws})
	if st := waitFinal(t, e, "venv-c"); st.Phase != executor.PhaseSucceeded {
		t.Fatalf("venv-c: %s %q", st.Phase, st.Message)
	}
	if n := rec.count("creating python environment"); n != 1 {
		t.Errorf("a cached venv was created again (%d creations)", n)
	}

	// A requirement pip cannot satisfy fails the job with pip's words.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "requirements.txt"), []byte("mlportal-no-such-package-for-tests==0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, e, executor.Spec{JobID: "venv-bad", Command: show, Workspace: bad})
	st := waitFinal(t, e, "venv-bad")
	t.Logf("what the job's owner reads: %s", st.Message)
	if st.Phase != executor.PhaseFailed || !strings.Contains(st.Message, "pip install -r requirements.txt") ||
		!strings.Contains(st.Message, "mlportal-no-such-package-for-tests") || !strings.Contains(st.Message, "fix requirements.txt") {
		t.Errorf("status = %s %q, want Failed with pip's last lines", st.Phase, st.Message)
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "venvs"))
	for _, ent := range entries {
		if ent.IsDir() && !ready(filepath.Join(cache, "venvs", ent.Name())) {
			t.Errorf("a failed venv %s was left behind", ent.Name())
		}
	}
}
