package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml")

const defaultsGolden = "testdata/defaults.golden.yaml"

func marshalSection(t *testing.T, c Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("# Default() after Complete(). Regenerate: go test ./internal/config -update\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]Config{Section: c}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDefaultsGolden pins the effective defaults: any change to them shows
// up as a diff in review.
func TestDefaultsGolden(t *testing.T) {
	c := Default()
	c.Complete()
	got := marshalSection(t, c)
	if *update {
		if err := os.WriteFile(defaultsGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(defaultsGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/config -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("defaults changed (-%s +got); if intended, run go test ./internal/config -update:\n%s", defaultsGolden, diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("completed defaults do not validate: %v", err)
	}
}

// TestDefaultsGoldenLoads checks that what Config marshals to is valid
// input: the golden file loads back to the same configuration.
func TestDefaultsGoldenLoads(t *testing.T) {
	want := Default()
	want.Complete()
	got, err := Load([]string{defaultsGolden}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got.Auth.Admins, got.Auth.Backstage.PublicKeys, got.Lifecycle.TemplateDirs = nil, nil, nil // [] in YAML
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loaded golden (-want +got):\n%s", diff)
	}
}

func TestCompleteIsIdempotentAndKeepsExplicitValues(t *testing.T) {
	c := Default()
	c.DataDir = filepath.Join("var", "ml")
	c.Server.Addr = "[::]:9000"
	c.Complete()
	once := c
	c.Complete()
	if diff := cmp.Diff(once, c); diff != "" {
		t.Errorf("second Complete() changed the config (-once +twice):\n%s", diff)
	}
	want := [3]string{filepath.Join("var", "ml", "mlportal.db"), "http://localhost:9000", "http://localhost:9000"}
	if got := [3]string{c.Database.DSN, c.Server.BaseURL, c.Backstage.BaseURL}; got != want {
		t.Errorf("derived = %q, want %q", got, want)
	}

	c = Default()
	c.Server.Addr = "ml.internal:80"
	c.Database.Driver = DriverPostgres
	c.Backstage.BaseURL = "http://mlportal:8080"
	c.Complete()
	want = [3]string{"", "http://ml.internal:80", "http://mlportal:8080"}
	if got := [3]string{c.Database.DSN, c.Server.BaseURL, c.Backstage.BaseURL}; got != want {
		t.Errorf("derived = %q, want %q", got, want)
	}
}
