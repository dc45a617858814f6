package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// clientConfig is the CLI's own file, written by `mlportal login`.
type clientConfig struct {
	Server string `yaml:"server"`
	Token  string `yaml:"token"`
}

// clientConfigPath is $MLPORTAL_CLI_CONFIG or <user config dir>/mlportal/config.yaml.
func clientConfigPath() (string, error) {
	if p := os.Getenv("MLPORTAL_CLI_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config dir (set MLPORTAL_CLI_CONFIG): %w", err)
	}
	return filepath.Join(dir, "mlportal", "config.yaml"), nil
}

func loadClientConfig() (clientConfig, error) {
	var c clientConfig
	p, err := clientConfigPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s is not valid YAML (delete it and log in again): %w", p, err)
	}
	return c, nil
}

func saveClientConfig(c clientConfig) (string, error) {
	p, err := clientConfigPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	b, _ := yaml.Marshal(c)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
}
