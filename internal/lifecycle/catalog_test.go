package lifecycle

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/mlportal/mlportal/internal/fault"
)

// TestShippedTemplates checks each shipped file: it decodes strictly, is
// valid, is named after its file and is for the pattern of its name.
func TestShippedTemplates(t *testing.T) {
	src := Shipped()
	files, err := fs.Glob(src.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		data, err := fs.ReadFile(src.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := Decode(f, data)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if fes := tpl.Validate(); fes != nil {
			t.Errorf("%s does not validate: %v", f, fes)
		}
		if want := strings.TrimSuffix(f, ".yaml"); tpl.Metadata.Name != want || string(tpl.Spec.Pattern) != want {
			t.Errorf("%s: name %q and pattern %q, want both %q", f, tpl.Metadata.Name, tpl.Spec.Pattern, want)
		}
		if tpl.Metadata.Description == "" {
			t.Errorf("%s: no description", f)
		}
		names = append(names, tpl.Metadata.Name)
	}
	if diff := cmp.Diff([]string{"batch-inference", "realtime-serving", "training"}, names); diff != "" {
		t.Errorf("shipped templates (-want +got):\n%s", diff)
	}
}

// templateYAML returns a valid training template document.
func templateYAML(name, version string) string {
	return header + "metadata: {name: " + name + ", version: " + version + ", title: T}\n" + `spec:
  pattern: training
  job:
    image: python:3.12-slim
    command: [python, train.py]
    resources: {cpu: 1, memory: 2Gi}
    timeout: 1h
  stages: [{name: train, run: mlportal train --wait, required: true}]
`
}

func mapFS(files map[string]string) fs.FS {
	m := fstest.MapFS{}
	for name, content := range files {
		m[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return m
}

func TestCatalogExtendsShippedTemplates(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"training-2.yaml": templateYAML("training", "2.0.0"),
		"training-3.yml":  templateYAML("training", "3.0.0-beta.1"),
		"llm.yaml":        templateYAML("llm-finetune", "0.1.0"),
		"README.md":       "not a template",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "old.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tpl := range c.List() {
		got = append(got, tpl.Metadata.Name+"@"+tpl.Metadata.Version)
	}
	want := []string{"batch-inference@1.0.0", "llm-finetune@0.1.0", "realtime-serving@1.0.0",
		"training@3.0.0-beta.1", "training@2.0.0", "training@1.0.0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() (-want +got):\n%s", diff)
	}

	latest, err := c.Get("training", "")
	if err != nil || latest.Metadata.Version != "2.0.0" || latest.File != filepath.Join(dir, "training-2.yaml") || latest.Shipped {
		t.Errorf(`Get("training", "") = %s %s (shipped %v), %v; want the highest release, 2.0.0 from %s`,
			latest.Metadata.Version, latest.File, latest.Shipped, err, dir)
	}
	shipped, err := c.Get("training", "1.0.0")
	if err != nil || shipped.File != "internal/lifecycle/templates/training.yaml" || !shipped.Shipped {
		t.Errorf(`Get("training", "1.0.0") = %s (shipped %v), %v`, shipped.File, shipped.Shipped, err)
	}
	if pre, err := c.Get("training", "3.0.0-beta.1"); err != nil || pre.Metadata.Version != "3.0.0-beta.1" {
		t.Errorf("Get of a pre-release = %v, %v", pre.Metadata, err)
	}

	// What Get returns is a copy.
	shipped.Spec.Job.Command[0] = "changed"
	if again, _ := c.Get("training", "1.0.0"); again.Spec.Job.Command[0] != "python" {
		t.Errorf("changing a returned template changed the catalog: %v", again.Spec.Job.Command)
	}
}

func TestCatalogLatestIsAPreReleaseOnlyWithoutReleases(t *testing.T) {
	c, err := NewCatalog(Source{Name: "dir", FS: mapFS(map[string]string{
		"a.yaml": templateYAML("new", "1.0.0-alpha"),
		"b.yaml": templateYAML("new", "1.0.0-beta"),
	})})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get("new", ""); err != nil || got.Metadata.Version != "1.0.0-beta" {
		t.Errorf(`Get("new", "") = %q, %v; want 1.0.0-beta`, got.Metadata.Version, err)
	}
}

func TestCatalogGetErrors(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, version string
		kind          error
		want          string
	}{
		{"nope", "", fault.ErrNotFound, `lifecycle template "nope" not found`},
		{"training", "9.9.9", fault.ErrNotFound, `lifecycle template "training" has no version "9.9.9" (it has 1.0.0)`},
		{"training", "latest", fault.ErrInvalid, `invalid lifecycle template version (version: must be a semantic version such as 1.2.0, or empty for the latest (got "latest"))`},
	}
	for _, tt := range tests {
		_, err := c.Get(tt.name, tt.version)
		if !errors.Is(err, tt.kind) || err.Error() != tt.want {
			t.Errorf("Get(%q, %q) = %v; want %v: %s", tt.name, tt.version, err, tt.kind, tt.want)
		}
	}
}

func TestCatalogConflicts(t *testing.T) {
	tests := []struct {
		name    string
		sources []Source
		want    string
	}{
		{
			name:    "same name and version as a shipped template",
			sources: []Source{Shipped(), {Name: "/etc/templates", FS: mapFS(map[string]string{"mine.yaml": templateYAML("training", "1.0.0")})}},
			want:    "/etc/templates/mine.yaml: metadata.version: training 1.0.0 is already defined in internal/lifecycle/templates/training.yaml (shipped with mlportal); give this template a new version or another name",
		},
		{
			name: "two configured files",
			sources: []Source{
				{Name: "a", FS: mapFS(map[string]string{"x.yaml": templateYAML("x-model", "1.0.0")})},
				{Name: "b", FS: mapFS(map[string]string{"y.yaml": templateYAML("x-model", "1.0.0")})},
			},
			want: "b/y.yaml: metadata.version: x-model 1.0.0 is already defined in a/x.yaml; give this template a new version or another name",
		},
		{
			name: "invalid and undecodable templates fail the catalog, every problem at once",
			sources: []Source{{Name: "d", FS: mapFS(map[string]string{
				"bad.yaml":  strings.Replace(templateYAML("bad", "1.0.0"), "cpu: 1", "cpu: lots", 1),
				"typo.yaml": strings.Replace(templateYAML("typo", "1.0.0"), "timeout:", "timout:", 1),
			})}},
			want: `d/bad.yaml: spec.job.resources.cpu: "lots" is not a quantity; write cores as "4" or "0.5", or millicores as "500m"` + "\n" +
				`d/typo.yaml: spec.job.timout: unknown key (known keys: image, command, resources, timeout, retries, preemptible)`,
		},
		{
			name:    "a missing directory",
			sources: []Source{Dir(filepath.Join("testdata", "nope"))},
			want:    filepath.Join("testdata", "nope") + ": lifecycle template directory does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCatalog(tt.sources...)
			if err == nil {
				t.Fatalf("NewCatalog succeeded with %d templates", len(c.List()))
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}
