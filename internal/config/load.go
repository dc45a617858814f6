package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Section is the top-level key of app-config.yaml that mlportal reads.
const Section = "mlportal"

// Default configuration file names, in the order they are layered.
const (
	BaseFile  = "app-config.yaml"
	LocalFile = "app-config.local.yaml"
)

// DefaultFiles returns the files to load when no --config is given:
// dir/app-config.yaml, then dir/app-config.local.yaml, each if it exists. With
// neither, the defaults apply: the binary runs anywhere in local mode.
func DefaultFiles(dir string) []string {
	var files []string
	for _, name := range []string{BaseFile, LocalFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() {
			files = append(files, filepath.Join(dir, name))
		}
	}
	return files
}

// Load reads files in order and decodes each one's mlportal section over
// Default(), later files winning. Variables are looked up with lookupEnv
// (pass os.LookupEnv; nil means no variable is set). Every file is checked
// strictly before it is merged, and all problems of all files are returned
// at once, joined; each decoding problem is a *FileError. Load does not
// complete or validate the result.
func Load(files []string, lookupEnv func(string) (string, bool)) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	cfg := Default()
	var errs []error
	for _, file := range files {
		errs = append(errs, loadFile(&cfg, file, lookupEnv)...)
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

func loadFile(cfg *Config, file string, env func(string) (string, bool)) []error {
	data, err := os.ReadFile(file)
	if err != nil {
		return []error{fmt.Errorf("reading config: %w", err)}
	}
	return decodeFile(cfg, file, data, env)
}

// decodeFile decodes data, the contents of file, over cfg.
func decodeFile(cfg *Config, file string, data []byte, env func(string) (string, bool)) []error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{fmt.Errorf("%s: %w", file, err)}
	}
	if len(doc.Content) == 0 {
		return nil // empty, or only comments
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("%s: top level must be a mapping, got %s", file, describe(root))}
	}
	d := &decoder{file: file, dir: filepath.Dir(file), env: env}
	var section *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind != yaml.ScalarNode || k.Value != Section {
			continue // a Backstage section: not ours to read
		}
		if section != nil {
			d.problem(Section, "duplicate key")
			return d.errs
		}
		section = root.Content[i+1]
	}
	if section == nil {
		return nil
	}
	// Decode into a copy so that a file with problems leaves cfg untouched.
	next := *cfg
	if n, sub, ok := d.resolve(Section, section); ok {
		d.decode(Section, n, sub, reflect.ValueOf(&next).Elem())
	}
	if len(d.errs) == 0 {
		*cfg = next
	}
	return d.errs
}
