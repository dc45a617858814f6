package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadSubstitution(t *testing.T) {
	priv, pub := testKeyPair(t, 7)
	keys := []file{{"keys/backstage.pem", priv}, {"keys/backstage.pub", pub}}
	tests := []struct {
		name    string
		config  string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{
			name:   "${VAR} present, inside a string, with spaces and a trimmed value",
			config: "mlportal: {server: {addr: '${HOST}:${ PORT }'}, dataDir: '${DIR}/state'}",
			env:    map[string]string{"HOST": "0.0.0.0", "PORT": "9000", "DIR": " /srv \n"},
			want: defaultsWith(func(c *Config) {
				c.Server.Addr = "0.0.0.0:9000"
				c.DataDir = "/srv/state"
			}),
		},
		{
			name:   "${VAR} missing drops the key, so the default applies",
			config: "mlportal: {server: {addr: '${HOST}:8080'}, log: {level: '${LEVEL}'}}",
			env:    map[string]string{"LEVEL": "debug"},
			want:   defaultsWith(func(c *Config) { c.Log.Level = "debug" }),
		},
		{
			name:   "${VAR} missing in a sequence drops the element",
			config: "mlportal: {auth: {admins: [user:default/a, '${ADMIN}', '${OTHER}']}}",
			env:    map[string]string{"OTHER": "group:default/b"},
			want:   defaultsWith(func(c *Config) { c.Auth.Admins = []string{"user:default/a", "group:default/b"} }),
		},
		{
			name:   "$${VAR} escapes to a literal ${VAR}",
			config: "mlportal: {backstage: {keyId: 'a-$${KID}-${KID}'}}",
			env:    map[string]string{"KID": "7"},
			want:   defaultsWith(func(c *Config) { c.Backstage.KeyID = "a-${KID}-7" }),
		},
		{
			name:   "set but empty is a value, not undefined",
			config: "mlportal: {dataDir: '${D}'}",
			env:    map[string]string{"D": ""},
			want:   defaultsWith(func(c *Config) { c.DataDir = "" }),
		},
		{
			name:   "a substituted number fills an integer; durations and sizes parse",
			config: "mlportal: {database: {maxOpenConns: '${N}'}, server: {idleTimeout: '${T}', maxBodyBytes: '${B}'}}",
			env:    map[string]string{"N": "7", "T": "2m", "B": "512KiB"},
			want: defaultsWith(func(c *Config) {
				c.Database.MaxOpenConns = 7
				c.Server.IdleTimeout = Duration{2 * time.Minute}
				c.Server.MaxBodyBytes = 512 * KiB
			}),
		},
		{
			name:    "a substituted non-number does not",
			config:  "mlportal: {database: {maxOpenConns: '${N}'}}",
			env:     map[string]string{"N": "many"},
			wantErr: `app-config.yaml: mlportal.database.maxOpenConns: expected an integer, got string "many"`,
		},
		{
			name:   "$env present and missing",
			config: "mlportal: {database: {dsn: {$env: DSN}}, dataDir: {$env: NOPE}}",
			env:    map[string]string{"DSN": "postgres://x"},
			want:   defaultsWith(func(c *Config) { c.Database.DSN = "postgres://x" }),
		},
		{
			name:   "$file relative to the config file, with ${VAR} in the path; in a sequence too",
			config: "mlportal:\n  backstage: {privateKey: {$file: '${KEYS}/backstage.pem'}}\n  auth: {backstage: {publicKeys: [{$file: keys/backstage.pub}, {$env: NEXT_KEY}]}}\n",
			env:    map[string]string{"KEYS": "keys"},
			want: defaultsWith(func(c *Config) {
				c.Backstage.PrivateKey = priv
				c.Auth.Backstage.PublicKeys = []string{pub}
			}),
		},
		{
			name:    "$file that does not exist",
			config:  "mlportal: {backstage: {privateKey: {$file: missing.pem}}}",
			wantErr: "app-config.yaml: mlportal.backstage.privateKey: $file: open conf/missing.pem: no such file or directory",
		},
		{
			name:    "$env with other keys",
			config:  "mlportal: {dataDir: {$env: A, x: 1}}",
			wantErr: "app-config.yaml: mlportal.dataDir: $env and $file must be the only key of their mapping",
		},
		{
			name:    "$env with a non-string",
			config:  "mlportal: {dataDir: {$env: [A]}}",
			wantErr: "app-config.yaml: mlportal.dataDir: $env: expected a string, got a sequence",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The config lives in a subdirectory to show that $file is
			// relative to it, not to the working directory.
			inDir(t, append([]file{{"conf/app-config.yaml", tt.config}}, prefixed("conf/", keys)...)...)
			got, err := Load([]string{"conf/app-config.yaml"}, envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Load() succeeded, want error %q", tt.wantErr)
				}
				if diff := cmp.Diff("conf/"+tt.wantErr, err.Error()); diff != "" {
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

func prefixed(dir string, files []file) []file {
	out := make([]file, len(files))
	for i, f := range files {
		out[i] = file{dir + f.name, f.content}
	}
	return out
}
