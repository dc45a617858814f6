package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testKeyPair returns a deterministic Ed25519 key pair as PEM: PKCS#8
// private key and PKIX public key.
func testKeyPair(t testing.TB, seed byte) (priv, pub string) {
	t.Helper()
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	privDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
}

func ecdsaPublicKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), bytes.NewReader(bytes.Repeat([]byte{3}, 128)))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestValidate(t *testing.T) {
	priv1, pub1 := testKeyPair(t, 1)
	_, pub2 := testKeyPair(t, 2)
	tests := []struct {
		name string
		edit func(*Config)
		want []Problem
	}{
		{name: "completed defaults are valid", edit: nil},
		{
			name: "a full production config is valid",
			edit: func(c *Config) {
				c.Server.Addr = ":8080"
				c.Server.BaseURL = "https://ml.example.com"
				c.Database.Driver, c.Database.DSN = "postgres", "postgres://db/ml"
				c.Auth.Admins = []string{"user:default/jane.doe", "Group:platform-team/ml_admins"}
				c.Auth.Backstage.PublicKeys = []string{pub2, pub1}
				c.Backstage.PrivateKey = priv1
				c.Log = Log{Level: "warn", Format: "json"}
			},
		},
		{
			name: "scm, artifacts and the API peer",
			edit: func(c *Config) {
				c.SCM.Default = "github"
				c.SCM.GitHub.Organizations = map[string]string{"fraud": "-bad-"}
				c.Artifacts = ArtifactsConfig{Backend: "s3", S3: ArtifactsS3{AccessKeyID: "k", PartSize: MiB}}
				c.Projects.APIPeer = APIPeer{CIDR: "10.0.0.0/33", Port: 70000}
			},
			want: []Problem{
				{"mlportal.projects.apiPeer.cidr", `must be a CIDR like 10.0.0.0/16 (got "10.0.0.0/33")`},
				{"mlportal.projects.apiPeer.port", "must be the mlportal API's port, 1-65535 (got 70000)"},
				{"mlportal.scm.default", "is github but scm.github.token is not set"},
				{"mlportal.scm.github.organizations.fraud", `must be a GitHub organisation name (got "-bad-")`},
				{"mlportal.artifacts.s3.endpoint", "required when backend is s3, e.g. https://s3.eu-west-1.amazonaws.com"},
				{"mlportal.artifacts.s3.bucket", "required when backend is s3"},
				{"mlportal.artifacts.s3.secretAccessKey", "set both accessKeyId and secretAccessKey, or neither (the AWS default credential chain)"},
				{"mlportal.artifacts.s3.partSize", "must be at least 5MiB, S3's smallest part (got 1MiB)"},
			},
		},
		{
			name: "server",
			edit: func(c *Config) {
				c.Server.Addr = "x"
				c.Server.BaseURL = "localhost:8080"
				c.Server.ReadTimeout = Duration{}
				c.Server.ShutdownTimeout = Duration{-time.Second}
				c.Server.MaxBodyBytes = 2 * GiB
			},
			want: []Problem{
				{"mlportal.server.addr", `must be host:port (got "x")`},
				{"mlportal.server.baseUrl", `must be an absolute http(s) URL (got "localhost:8080")`},
				{"mlportal.server.readTimeout", "must be positive (got 0s)"},
				{"mlportal.server.shutdownTimeout", "must be positive (got -1s)"},
				{"mlportal.server.maxBodyBytes", "must be between 1KiB and 1GiB (got 2GiB)"},
			},
		},
		{
			name: "bad port and small body",
			edit: func(c *Config) { c.Server.Addr = "127.0.0.1:http"; c.Server.MaxBodyBytes = 1000 },
			want: []Problem{
				{"mlportal.server.addr", `must be host:port (got "127.0.0.1:http")`},
				{"mlportal.server.maxBodyBytes", "must be between 1KiB and 1GiB (got 1000B)"},
			},
		},
		{
			name: "database",
			edit: func(c *Config) {
				c.Database.Driver = "mysql"
				c.Database.MaxOpenConns = 0
				c.Database.MaxIdleConns = 5
				c.Database.ConnMaxLifetime = Duration{}
				c.DataDir = ""
			},
			want: []Problem{
				{"mlportal.dataDir", "required"},
				{"mlportal.database.driver", `must be sqlite or postgres (got "mysql")`},
				{"mlportal.database.maxOpenConns", "must be at least 1 (got 0)"},
				{"mlportal.database.maxIdleConns", "must be between 0 and maxOpenConns (got 5)"},
				{"mlportal.database.connMaxLifetime", "must be positive (got 0s)"},
			},
		},
		{
			name: "postgres needs a dsn",
			edit: func(c *Config) { c.Database.Driver, c.Database.DSN = "postgres", "" },
			want: []Problem{{"mlportal.database.dsn", "required when driver is postgres"}},
		},
		{
			name: "admins are user or group entity refs",
			edit: func(c *Config) {
				c.Auth.Admins = []string{"user:default/ok", "jane", "component:default/x", "user:Default/x", "user:default/", "group:default/" + strings.Repeat("a", 64)}
			},
			want: []Problem{
				{"mlportal.auth.admins[1]", `must be an entity ref "user:<namespace>/<name>" or "group:<namespace>/<name>" (got "jane")`},
				{"mlportal.auth.admins[2]", `must be an entity ref "user:<namespace>/<name>" or "group:<namespace>/<name>" (got "component:default/x")`},
				{"mlportal.auth.admins[3]", `must be an entity ref "user:<namespace>/<name>" or "group:<namespace>/<name>" (got "user:Default/x")`},
				{"mlportal.auth.admins[4]", `must be an entity ref "user:<namespace>/<name>" or "group:<namespace>/<name>" (got "user:default/")`},
				{"mlportal.auth.admins[5]", `must be an entity ref "user:<namespace>/<name>" or "group:<namespace>/<name>" (got "group:default/` + strings.Repeat("a", 64) + `")`},
			},
		},
		{
			name: "tokens",
			edit: func(c *Config) {
				c.Auth.Tokens = Tokens{DefaultTTL: Duration{48 * time.Hour}, MaxTTL: Duration{24 * time.Hour}}
			},
			want: []Problem{{"mlportal.auth.tokens.defaultTTL", "must not exceed maxTTL (48h > 24h)"}},
		},
		{
			name: "tokens must be positive",
			edit: func(c *Config) { c.Auth.Tokens = Tokens{} },
			want: []Problem{
				{"mlportal.auth.tokens.defaultTTL", "must be positive (got 0s)"},
				{"mlportal.auth.tokens.maxTTL", "must be positive (got 0s)"},
			},
		},
		{
			name: "backstage auth",
			edit: func(c *Config) {
				c.Auth.Backstage = BackstageAuth{PublicKeys: []string{pub1, "not pem", ecdsaPublicKey(t), priv1, pub2 + "junk"}}
			},
			want: []Problem{
				{"mlportal.auth.backstage.publicKeys[1]", `not an Ed25519 public key: no PEM "PUBLIC KEY" block found`},
				{"mlportal.auth.backstage.publicKeys[2]", "not an Ed25519 public key: got a *ecdsa.PublicKey"},
				{"mlportal.auth.backstage.publicKeys[3]", `not an Ed25519 public key: PEM block is "PRIVATE KEY", want "PUBLIC KEY"`},
				{"mlportal.auth.backstage.publicKeys[4]", "not an Ed25519 public key: unexpected data after the PEM block"},
				{"mlportal.auth.backstage.issuer", "required"},
				{"mlportal.auth.backstage.audience", "required"},
				{"mlportal.auth.backstage.maxTokenAge", "must be positive (got 0s)"},
			},
		},
		{
			name: "private key must parse, and match a public key when both are set",
			edit: func(c *Config) { c.Backstage.PrivateKey = pub1 },
			want: []Problem{{"mlportal.backstage.privateKey", `not an Ed25519 private key: PEM block is "PUBLIC KEY", want "PRIVATE KEY"`}},
		},
		{
			name: "private key whose public key is not listed",
			edit: func(c *Config) { c.Backstage.PrivateKey, c.Auth.Backstage.PublicKeys = priv1, []string{pub2} },
			want: []Problem{{"mlportal.backstage.privateKey", "its public key is not in auth.backstage.publicKeys, so tokens it signs would be rejected"}},
		},
		{
			name: "log and backstage base URL",
			edit: func(c *Config) { c.Log = Log{Level: "trace", Format: "xml"}; c.Backstage.BaseURL = "ftp://x" },
			want: []Problem{
				{"mlportal.log.level", `must be one of debug, info, warn, error (got "trace")`},
				{"mlportal.log.format", `must be json or text (got "xml")`},
				{"mlportal.backstage.baseUrl", `must be an absolute http(s) URL (got "ftp://x")`},
			},
		},
		{
			name: "costs",
			edit: func(c *Config) {
				c.Costs = CostsConfig{Currency: "usd", CPUCoreHourPrice: -1, MemoryGiBHourPrice: math.NaN(),
					GPUHourPrices: map[string]GPUHourPrice{"A100": {OnDemand: 3.2}}}
			},
			want: []Problem{
				{"mlportal.costs.currency", `must be an ISO 4217 currency code such as USD or EUR (got "usd")`},
				{"mlportal.costs.gpuHourPrices.A100", "must be a GPU type as nodes report it (lower-case letters, digits, '-' or '.') or default"},
				{"mlportal.costs.cpuCoreHourPrice", "must be a price per hour between 0 and 1000000 (got -1)"},
				{"mlportal.costs.memoryGiBHourPrice", "must be a price per hour between 0 and 1000000 (got NaN)"},
			},
		},
		{
			name: "lifecycle template dirs must not be empty",
			edit: func(c *Config) { c.Lifecycle.TemplateDirs = []string{"templates/ml", " ", ""} },
			want: []Problem{
				{"mlportal.lifecycle.templateDirs[1]", "must be a directory path, not empty"},
				{"mlportal.lifecycle.templateDirs[2]", "must be a directory path, not empty"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Complete()
			if tt.edit != nil {
				tt.edit(&c)
			}
			err := c.Validate()
			var got []Problem
			if ve := (*ValidationError)(nil); errors.As(err, &ve) {
				got = ve.Problems
			} else if err != nil {
				t.Fatalf("Validate() returned %T, want *ValidationError", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidationErrorListsProblems(t *testing.T) {
	c := Default()
	c.Complete()
	c.Server.Addr = "x"
	c.Log.Format = "xml"
	want := "mlportal.server.addr: must be host:port (got \"x\")\nmlportal.log.format: must be json or text (got \"xml\")"
	if diff := cmp.Diff(want, c.Validate().Error()); diff != "" {
		t.Errorf("Error() (-want +got):\n%s", diff)
	}
}

func TestValidateDoesNotEchoKeys(t *testing.T) {
	priv, _ := testKeyPair(t, 9)
	c := Default()
	c.Complete()
	c.Backstage.PrivateKey = strings.Replace(priv, "MC4", "XXX", 1) // corrupt the DER
	err := c.Validate()
	if err == nil || strings.Contains(err.Error(), "XXX") {
		t.Errorf("Validate() = %v, want an error that does not quote the key", err)
	}
}
