package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load's decoding of one file: it must
// return a configuration or an error, never panic or hang, and whatever it
// returns must survive Complete and Validate. It calls decodeFile, which is
// all of Load but reading the file, because writing every input to disk
// throttles the fuzzing workers to a few execs per second.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"../../app-config.yaml", defaultsGolden} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"mlportal:\n",
		"mlportal: {server: {adress: x}}",
		"mlportal: {server: {maxBodyBytes: 10MB, readTimeout: '${T}'}, auth: {admins: ['${A}', x]}}",
		"mlportal: {backstage: {privateKey: {$file: key.pem}}, dataDir: {$env: D}}",
		"a: &a [*a]\nmlportal: &m {log: *m, server: *a}",
		"mlportal: {database: {maxOpenConns: 99999999999999999999}}",
		"- [",
	} {
		f.Add([]byte(s))
	}
	env := envOf(map[string]string{"T": "1s", "A": "user:default/a", "D": "/tmp"})
	dir := f.TempDir() // "$file: key.pem" resolves here
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o644); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "app-config.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		if errs := decodeFile(&c, path, data, env); len(errs) > 0 {
			for _, err := range errs {
				if err == nil || err.Error() == "" {
					t.Fatalf("empty error in %q", errs)
				}
			}
			return
		}
		c.Complete()
		_ = c.Validate()
	})
}
