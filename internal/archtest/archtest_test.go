package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Deps       []string
}

func goList(t *testing.T, args ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestEveryPackageHasADocComment keeps `go doc` useful for newcomers.
func TestEveryPackageHasADocComment(t *testing.T) {
	for _, p := range goList(t, "./...") {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment: add a doc.go saying what it does and does not do", p.ImportPath)
		}
	}
}

const module = "github.com/mlportal/mlportal/"

// domain packages hold the rules; they import no transport or adapter.
var domain = []string{"fault", "clock", "identity", "pagination", "team", "audit", "idempotency", "token", "lifecycle", "render", "project", "artifact", "executor", "jobs", "tracking", "modelregistry", "quota", "cost", "scheduler", "scheduler/trace", "scheduler/sim", "models", "datasets"}

var forbidden = []string{
	"github.com/labstack/echo",            // HTTP transport
	"net/http",                            // HTTP transport
	"k8s.io/client-go",                    // Kubernetes adapter
	"github.com/google/go-github",         // GitHub adapter
	"database/sql",                        // SQL adapter
	"github.com/jackc/pgx",                // PostgreSQL adapter
	"modernc.org/sqlite",                  // SQLite adapter
	"github.com/spf13/cobra",              // CLI transport
	module + "internal/api",               // generated transport types
	module + "internal/httpapi",           // transport
	module + "internal/store",             // adapter
	module + "internal/cli",               // transport
	module + "internal/app",               // composition root
	"github.com/prometheus/client_golang", // metrics belong to transport
}

// TestDependencyDirection proves transport → domain ← adapters: no domain
// package depends, even indirectly, on transport or adapter code.
func TestDependencyDirection(t *testing.T) {
	args := []string{"-deps=false"}
	for _, d := range domain {
		args = append(args, "./internal/"+d)
	}
	for _, p := range goList(t, args[1:]...) {
		for _, dep := range p.Deps {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("domain package %s depends on %s; move that code to a transport or adapter package", p.ImportPath, dep)
				}
			}
		}
	}
}
