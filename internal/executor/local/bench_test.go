package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlportal/mlportal/internal/executor"
)

// BenchmarkJobLifecycle measures the executor's overhead per job: Start
// (state recorded, workspace of 20 small files copied) until the job,
// `true`, has ended and its state is final, then Cleanup.
//
//	go test -run '^$' -bench JobLifecycle ./internal/executor/local/
func BenchmarkJobLifecycle(b *testing.B) {
	if testing.Short() {
		b.Skip("runs real processes; run without -short")
	}
	e, err := New(Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ws := b.TempDir()
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(ws, fmt.Sprintf("f%02d.py", i)), make([]byte, 4096), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-%d", i)
		if err := e.Start(ctx, executor.Spec{JobID: id, Command: []string{"true"}, Workspace: ws}); err != nil {
			b.Fatal(err)
		}
		e.mu.Lock()
		done := e.jobs[id].done
		e.mu.Unlock()
		<-done
		if st, _ := e.Status(ctx, id); st.Phase != executor.PhaseSucceeded {
			b.Fatalf("%s: %s %s", id, st.Phase, st.Message)
		}
		if err := e.Cleanup(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCachedVenvLookup measures what a job with requirements.txt pays
// once its environment is cached: hashing the requirements and finding the
// stamp.
//
//	go test -run '^$' -bench CachedVenv ./internal/executor/local/
func BenchmarkCachedVenvLookup(b *testing.B) {
	dir := b.TempDir()
	req := filepath.Join(dir, "requirements.txt")
	if err := os.WriteFile(req, []byte("mlflow==3.1.0\nscikit-learn==1.5.2\npandas==2.2.3\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	p := &pyenvs{dir: filepath.Join(dir, "venvs"), tag: "CPython 3.11.7 x86_64", log: discard()}
	reqs, _ := os.ReadFile(req)
	venv := filepath.Join(p.dir, venvKey(p.tag, reqs))
	if err := os.MkdirAll(venv, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(venv, readyStamp), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if got, err := p.ensure(ctx, "bench", req); err != nil || got != venv {
			b.Fatalf("ensure = %q, %v", got, err)
		}
	}
}
