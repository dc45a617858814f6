package local

import (
	"os"
	"path/filepath"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
)

// Config configures the local executor.
type Config struct {
	// Dir holds the executor's state: jobs/<id>/ (state.json, each
	// attempt's run directory, logs and exit files) and checkpoints/<id>/.
	// Required; it must survive restarts of the server.
	Dir string
	// CacheDir holds the prepared virtualenvs (venvs/<hash>/); default
	// Dir/cache. Share it between executors to share environments.
	CacheDir string
	// NodeName names this machine in the inventory; default the hostname.
	NodeName string
	// Python is the interpreter virtualenvs are made with; default python3.
	Python string
	// FakeGPUs is an executable that stands in for nvidia-smi: it must
	// print nvidia-smi's CSV for
	// --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits.
	// Default $MLPORTAL_FAKE_NVIDIA_SMI, else nvidia-smi from PATH; with
	// neither the node has no GPUs.
	FakeGPUs string
	// GPUTypes maps nvidia-smi product names to mlportal GPU types, ahead
	// of NormalizeGPUName ("NVIDIA A100-SXM4-80GB" → "a100-80gb").
	GPUTypes map[string]string
	// PassEnv names the server's environment variables jobs see besides
	// PATH, HOME, LANG and TMPDIR; a trailing "*" matches a prefix ("LC_*").
	PassEnv []string
	// StopGrace is how long a job has between SIGTERM and SIGKILL when it
	// times out or one of its replicas fails; default 30s. Stop takes its
	// own grace.
	StopGrace time.Duration
	// PollInterval paces what the executor cannot be told: liveness of
	// processes started before a restart, log follow, the venv lock.
	// Default 200ms.
	PollInterval time.Duration
	// Clock stamps times; default the real clock. Timeouts and grace
	// periods run on real timers.
	Clock clock.Clock
}

func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		return c, fault.Invalid("the local executor needs a state directory", fault.Field("dir", "set it to a directory that survives restarts of mlportal"))
	}
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return c, fault.Invalid("the local executor's state directory is unusable", fault.Field("dir", "%v", err))
	}
	c.Dir = abs
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(c.Dir, "cache")
	}
	if c.CacheDir, err = filepath.Abs(c.CacheDir); err != nil {
		return c, fault.Invalid("the local executor's cache directory is unusable", fault.Field("cacheDir", "%v", err))
	}
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "local"
		}
		c.NodeName = h
	}
	if c.Python == "" {
		c.Python = "python3"
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 200 * time.Millisecond
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	return c, nil
}
