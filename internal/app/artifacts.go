package app

import (
	"fmt"
	"path/filepath"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/artifact/fsstore"
	"github.com/mlportal/mlportal/internal/config"
)

// newArtifacts opens the artifact store MLflow's artifact API serves: files
// under <dataDir>/artifacts.
func newArtifacts(cfg config.Config) (artifact.Store, error) {
	st, err := fsstore.New(filepath.Join(cfg.DataDir, "artifacts"))
	if err != nil {
		return nil, fmt.Errorf("artifact store under %s: %w", cfg.DataDir, err)
	}
	return st, nil
}
