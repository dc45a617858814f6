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

// nodeHeartbeatLease refreshes a node's status every five minutes, as a
// kubelet that renews a Lease does; it replaces kwok's node-heartbeat
// stage, which refreshes it every 20-45 s.
//
//go:embed stages/node-heartbeat-lease.yaml
var nodeHeartbeatLease []byte

// extraStages writes the stages testenv adds to kwok's into dir and returns
// their paths.
func extraStages(dir string) ([]string, error) {
	var paths []string
	for _, st := range []struct {
		name string
		body []byte
	}{{"pod-complete-mlportal.yaml", podCompleteMlportal}, {"node-heartbeat-lease.yaml", nodeHeartbeatLease}} {
		path := filepath.Join(dir, st.name)
		if err := os.WriteFile(path, st.body, 0o600); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
