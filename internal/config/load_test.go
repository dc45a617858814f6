package config

import (
	"gopkg.in/yaml.v3"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type file struct{ name, content string }

// inDir writes files into a fresh directory and makes it the working
// directory, so that error messages name files as a user would pass them.
func inDir(t *testing.T, files ...file) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// defaultsWith returns Default() changed by edit.
func defaultsWith(edit func(*Config)) Config {
	c := Default()
	if edit != nil {
		edit(&c)
	}
	return c
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   []file
		load    []string // defaults to the names of files
		env     map[string]string
		want    Config
		wantErr string
	}{
		{
			name:  "no files gives defaults",
			files: nil,
			want:  Default(),
		},
		{
			name:  "empty file and file without mlportal section",
			files: []file{{"a.yaml", ""}, {"b.yaml", "# only a comment\n"}, {"c.yaml", "app:\n  title: x\n"}},
			want:  Default(),
		},
		{
			name: "backstage sections are ignored, even when they would not decode",
			files: []file{{"app-config.yaml", `
app: {title: mlportal, baseUrl: http://localhost:3000}
backend: {baseUrl: http://localhost:7007, listen: {port: 7007}, database: {client: better-sqlite3}}
catalog: {locations: [{type: file, target: ../catalog/all.yaml}]}
integrations: {github: [{host: github.com, token: "${GITHUB_TOKEN}"}], gitlab: {$file: nope.txt}}
mlportal:
  server: {addr: ":9090"}
`}},
			want: defaultsWith(func(c *Config) { c.Server.Addr = ":9090" }),
		},
		{
			name: "maps and booleans",
			files: []file{{"app-config.yaml", `
mlportal:
  projects:
    apiPeer: {namespaceLabels: {kubernetes.io/metadata.name: mlportal}, port: 8080}
  scm:
    github: {token: t, organizations: {fraud: acme-fraud, risk: acme-risk}}
  artifacts:
    backend: s3
    s3: {endpoint: "http://minio:9000", bucket: ml, pathStyle: true, partSize: 32MiB}
`}},
			want: defaultsWith(func(c *Config) {
				c.Projects.APIPeer = APIPeer{NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "mlportal"}, Port: 8080}
				c.SCM.GitHub = GitHubConfig{Token: "t", Organizations: map[string]string{"fraud": "acme-fraud", "risk": "acme-risk"}}
				c.Artifacts = ArtifactsConfig{Backend: "s3", S3: ArtifactsS3{Endpoint: "http://minio:9000", Bucket: "ml", PathStyle: true, PartSize: 32 * MiB}}
			}),
		},
		{
			name: "prices are numbers, integers included",
			files: []file{{"app-config.yaml", `
mlportal:
  costs:
    currency: EUR
    gpuHourPrices: {a100: {onDemand: 3.2, spot: 1}, default: {onDemand: 2}}
    cpuCoreHourPrice: ${CPU_PRICE}
`}},
			env: map[string]string{"CPU_PRICE": "0.04"},
			want: defaultsWith(func(c *Config) {
				c.Costs = CostsConfig{Currency: "EUR", CPUCoreHourPrice: 0.04,
					GPUHourPrices: map[string]GPUHourPrice{"a100": {OnDemand: 3.2, Spot: 1}, "default": {OnDemand: 2}}}
			}),
		},
		{
			name:    "a price that is not a number",
			files:   []file{{"app-config.yaml", "mlportal:\n  costs:\n    cpuCoreHourPrice: cheap\n"}},
			wantErr: `app-config.yaml: mlportal.costs.cpuCoreHourPrice: expected a number, got string "cheap"`,
		},
		{
			name:    "a boolean that is not",
			files:   []file{{"app-config.yaml", "mlportal:\n  artifacts:\n    s3: {pathStyle: yes please}\n"}},
			wantErr: `app-config.yaml: mlportal.artifacts.s3.pathStyle: expected true or false, got string "yes please"`,
		},
		{
			name:  "empty mlportal section",
			files: []file{{"app-config.yaml", "mlportal:\n  # all defaults\n"}},
			want:  Default(),
		},
		{
			name: "every kind of field",
			files: []file{{"app-config.yaml", `
mlportal:
  server:
    addr: 0.0.0.0:80
    baseUrl: https://ml.example.com
    readTimeout: 1m30s
    maxBodyBytes: 2048
  dataDir: /var/lib/mlportal
  database: {driver: postgres, dsn: "postgres://db/ml", maxOpenConns: 5, connMaxLifetime: 1h}
  auth:
    admins: [user:default/jane, group:default/ml-platform]
    tokens: {defaultTTL: 24h}
  log: {level: debug, format: json}
  backstage: {keyId: "2024-01"}
  lifecycle: {templateDirs: [/etc/mlportal/templates]}
`}},
			want: defaultsWith(func(c *Config) {
				c.Server.Addr = "0.0.0.0:80"
				c.Server.BaseURL = "https://ml.example.com"
				c.Server.ReadTimeout = Duration{90 * time.Second}
				c.Server.MaxBodyBytes = 2048
				c.DataDir = "/var/lib/mlportal"
				c.Database = Database{Driver: "postgres", DSN: "postgres://db/ml", MaxOpenConns: 5, MaxIdleConns: 10, ConnMaxLifetime: Duration{time.Hour}}
				c.Auth.Admins = []string{"user:default/jane", "group:default/ml-platform"}
				c.Auth.Tokens.DefaultTTL = Duration{24 * time.Hour}
				c.Log = Log{Level: "debug", Format: "json"}
				c.Backstage.KeyID = "2024-01"
				c.Lifecycle.TemplateDirs = []string{"/etc/mlportal/templates"}
			}),
		},
		{
			name: "later files win; maps merge deeply; sequences are replaced",
			files: []file{
				{"app-config.yaml", `
mlportal:
  server: {addr: "127.0.0.1:9000", readTimeout: 5s}
  auth: {admins: [user:default/a, user:default/b], tokens: {maxTTL: 100h}}
`},
				{"app-config.production.yaml", `
mlportal:
  server: {readTimeout: 7s}
  auth: {admins: [group:default/ops]}
`},
				{"app-config.local.yaml", `
mlportal:
  server: {addr: "127.0.0.1:9001"}
`},
			},
			want: defaultsWith(func(c *Config) {
				c.Server.Addr = "127.0.0.1:9001"
				c.Server.ReadTimeout = Duration{7 * time.Second}
				c.Auth.Admins = []string{"group:default/ops"}
				c.Auth.Tokens.MaxTTL = Duration{100 * time.Hour}
			}),
		},
		{
			name:  "null keeps the lower layer",
			files: []file{{"a.yaml", "mlportal: {dataDir: /a}\n"}, {"b.yaml", "mlportal: {dataDir: ~, log: null}\n"}},
			want:  defaultsWith(func(c *Config) { c.DataDir = "/a" }),
		},
		{
			name:  "anchors and aliases",
			files: []file{{"a.yaml", "x: &t 45s\nmlportal: {server: {readTimeout: *t, writeTimeout: *t}}\n"}},
			want: defaultsWith(func(c *Config) {
				c.Server.ReadTimeout = Duration{45 * time.Second}
				c.Server.WriteTimeout = Duration{45 * time.Second}
			}),
		},
		{
			name: "unknown key names key, file and a suggestion",
			files: []file{
				{"app-config.yaml", "mlportal: {server: {addr: ':1'}}\n"},
				{"app-config.local.yaml", "mlportal:\n  server:\n    adress: ':2'\n"},
			},
			wantErr: `app-config.local.yaml: mlportal.server.adress: unknown key (did you mean "addr"?)`,
		},
		{
			name:    "unknown key without a close match lists the known ones",
			files:   []file{{"a.yaml", "mlportal: {log: {colour: true}}\n"}},
			wantErr: `a.yaml: mlportal.log.colour: unknown key (known keys: level, format)`,
		},
		{
			name:    "case and separators are forgiven in suggestions",
			files:   []file{{"a.yaml", "mlportal: {server: {base_url: x}, database: {DSN: y}}\n"}},
			wantErr: "a.yaml: mlportal.server.base_url: unknown key (did you mean \"baseUrl\"?)\na.yaml: mlportal.database.DSN: unknown key (did you mean \"dsn\"?)",
		},
		{
			name: "all problems of all files at once; a bad file is named even when a later one is fine",
			files: []file{
				{"a.yaml", "mlportal: {datadir: x, server: {addr: [1]}}\n"},
				{"b.yaml", "mlportal: {database: {maxOpenConns: twenty}}\n"},
				{"c.yaml", "mlportal: {dataDir: ok}\n"},
			},
			wantErr: "a.yaml: mlportal.datadir: unknown key (did you mean \"dataDir\"?)\n" +
				"a.yaml: mlportal.server.addr: expected a string, got a sequence\n" +
				"b.yaml: mlportal.database.maxOpenConns: expected an integer, got string \"twenty\"",
		},
		{
			name:  "wrong types",
			files: []file{{"a.yaml", "mlportal:\n  server: {readTimeout: 30, maxBodyBytes: lots}\n  auth: {admins: user:default/jane}\n  log: [info]\n"}},
			wantErr: "a.yaml: mlportal.server.readTimeout: expected a duration such as \"30s\", got integer 30\n" +
				"a.yaml: mlportal.server.maxBodyBytes: expected a size such as 1048576, \"512KiB\", \"1MiB\" or \"10MB\", got \"lots\"\n" +
				"a.yaml: mlportal.auth.admins: expected a sequence, got string \"user:default/jane\"\n" +
				"a.yaml: mlportal.log: expected a mapping, got a sequence",
		},
		{
			name:    "a quoted number is not an integer",
			files:   []file{{"a.yaml", "mlportal: {database: {maxIdleConns: \"3\"}}\n"}},
			wantErr: `a.yaml: mlportal.database.maxIdleConns: expected an integer, got string "3"`,
		},
		{
			name:    "duplicate keys",
			files:   []file{{"a.yaml", "mlportal: {dataDir: a, dataDir: b}\n"}},
			wantErr: `a.yaml: mlportal.dataDir: duplicate key`,
		},
		{
			name:    "mlportal must be a mapping",
			files:   []file{{"a.yaml", "mlportal: 42\n"}},
			wantErr: `a.yaml: mlportal: expected a mapping, got integer 42`,
		},
		{
			name:    "top level must be a mapping",
			files:   []file{{"a.yaml", "- mlportal\n"}},
			wantErr: `a.yaml: top level must be a mapping, got a sequence`,
		},
		{
			name:    "YAML syntax error names the file",
			files:   []file{{"a.yaml", "mlportal: {server: \n"}},
			wantErr: "a.yaml: yaml: line 1: did not find expected node content",
		},
		{
			name:    "missing file",
			load:    []string{"nope.yaml"},
			wantErr: "reading config: open nope.yaml: no such file or directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files...)
			names := tt.load
			if names == nil {
				for _, f := range tt.files {
					names = append(names, f.name)
				}
			}
			got, err := Load(names, envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Load() succeeded, want error %q", tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Fatalf("Load() error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultFiles(t *testing.T) {
	dir := t.TempDir()
	base, local := filepath.Join(dir, "app-config.yaml"), filepath.Join(dir, "app-config.local.yaml")
	if got := DefaultFiles(dir); len(got) != 0 {
		t.Errorf("in an empty directory: %v, want none (defaults apply)", got)
	}
	if err := os.WriteFile(base, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{base}, DefaultFiles(dir)); diff != "" {
		t.Errorf("without local file (-want +got):\n%s", diff)
	}
	if err := os.WriteFile(local, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{base, local}, DefaultFiles(dir)); diff != "" {
		t.Errorf("with local file (-want +got):\n%s", diff)
	}
}

// TestRootAppConfig loads the repository's app-config.yaml as a fresh
// checkout would, with none of its optional secrets set.
func TestRootAppConfig(t *testing.T) {
	root := filepath.Join("..", "..", "app-config.yaml")
	got, err := Load([]string{root}, envOf(nil))
	if err != nil {
		t.Fatalf("Load(%s): %v", root, err)
	}
	want := Default()
	want.Auth.Admins = []string{}
	want.Auth.Backstage.PublicKeys = []string{} // every element's variable is unset
	if got.Catalog.Node == nil || got.Catalog.Node.Kind != yaml.MappingNode {
		t.Errorf("mlportal.catalog (the Backstage module's section) was not kept: %+v", got.Catalog)
	}
	got.Catalog = Opaque{} // Backstage's; the server only keeps it
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("app-config.yaml differs from Default() (-want +got):\n%s", diff)
	}
	got.Complete()
	if err := got.Validate(); err != nil {
		t.Errorf("Validate(): %v", err)
	}

	priv, pub := testKeyPair(t, 1)
	got, err = Load([]string{root}, envOf(map[string]string{
		"MLPORTAL_BACKSTAGE_PRIVATE_KEY": priv,
		"MLPORTAL_BACKSTAGE_PUBLIC_KEY":  pub,
		"MLPORTAL_BACKSTAGE_KEY_ID":      "k1",
	}))
	if err != nil {
		t.Fatalf("Load(%s) with keys: %v", root, err)
	}
	if got.Backstage.PrivateKey != strings.TrimSpace(priv) || len(got.Auth.Backstage.PublicKeys) != 1 || got.Backstage.KeyID != "k1" {
		t.Errorf("keys not substituted: %+v %+v", got.Backstage, got.Auth.Backstage)
	}
	got.Complete()
	if err := got.Validate(); err != nil {
		t.Errorf("Validate() with keys: %v", err)
	}
}
