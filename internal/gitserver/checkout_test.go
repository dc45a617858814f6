package gitserver

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlportal/mlportal/internal/fault"
)

func TestCheckout(t *testing.T) {
	f := newFixture(t)
	head := f.create()
	dir := filepath.Join(t.TempDir(), "ws")
	commit, err := f.store.Checkout(t.Context(), team, project, "", dir)
	if err != nil || commit != head {
		t.Fatalf("Checkout = %s, %v; want %s", commit, err, head)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "src", "train.py")); err != nil || string(b) != "print('train')\n" {
		t.Errorf("src/train.py = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the workspace has a .git: %v", err)
	}
	if c, err := f.store.Checkout(t.Context(), team, project, "main", filepath.Join(t.TempDir(), "ws")); err != nil || c != head {
		t.Errorf("Checkout main = %s, %v", c, err)
	}
	if _, err := f.store.Checkout(t.Context(), team, project, "--upload-pack=x", filepath.Join(t.TempDir(), "ws")); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("an option as ref: %v", err)
	}
	if _, err := f.store.Checkout(t.Context(), team, project, "nope", filepath.Join(t.TempDir(), "ws")); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("a missing ref: %v", err)
	}
	if _, err := f.store.Checkout(t.Context(), team, "other", "", filepath.Join(t.TempDir(), "ws")); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("a missing repository: %v", err)
	}
}
