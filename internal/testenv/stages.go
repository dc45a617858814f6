package testenv

import (
	_ "embed"
	"os"
	"path/filepath"
)

// podCompleteMlportal completes unowned pods labelled mlportal.io/job, as
// kwok's pod-general stages complete a Job's pods.
//
//go:embed stages/pod-complete-mlportal.yaml
var podCompleteMlportal []byte

// extraStages writes the stages testenv adds to kwok's into dir and returns
// their paths.
func extraStages(dir string) ([]string, error) {
	path := filepath.Join(dir, "pod-complete-mlportal.yaml")
	if err := os.WriteFile(path, podCompleteMlportal, 0o600); err != nil {
		return nil, err
	}
	return []string{path}, nil
}
