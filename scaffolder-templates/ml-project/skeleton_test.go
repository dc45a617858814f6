package mlproject

import (
	"io/fs"
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestValuesDocumented keeps VALUES.md and the skeleton in step: every value a placeholder uses
// has a row in VALUES.md's table, and every row is used.
func TestValuesDocumented(t *testing.T) {
	used := map[string]bool{}
	placeholder := regexp.MustCompile(`\$\{\{\s*values\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)
	err := fs.WalkDir(Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(Files(), path)
		for _, m := range placeholder.FindAllStringSubmatch(path+"\n"+string(body), -1) {
			used[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("VALUES.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Za-z_][A-Za-z0-9_]*)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for name := range used {
		if !documented[name] {
			t.Errorf("value %q is used in the skeleton but has no row in VALUES.md", name)
		}
	}
	for name := range documented {
		if !used[name] {
			t.Errorf("VALUES.md documents %q but no placeholder uses it", name)
		}
	}
}

func TestFilesIncludesDotFiles(t *testing.T) {
	var names []string
	fs.WalkDir(Files(), ".", func(path string, d fs.DirEntry, err error) error {
		names = append(names, path)
		return err
	})
	for _, want := range []string{".github/workflows/ml-pipeline.yml", ".gitignore", ".dockerignore", "src/train.py"} {
		if !slices.Contains(names, want) {
			t.Errorf("Files() lacks %s", want)
		}
	}
	for _, name := range names {
		if regexp.MustCompile(`(^|/)(__pycache__|\.pytest_cache|mlruns)(/|$)|mlflow\.db$`).MatchString(name) {
			t.Errorf("Files() embeds generated file %s: delete it from skeleton/", name)
		}
	}
}
