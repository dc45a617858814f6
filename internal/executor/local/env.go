package local

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Variables the executor sets for every job.
const (
	envJobID         = "MLPORTAL_JOB_ID"
	envAttempt       = "MLPORTAL_ATTEMPT"
	envCheckpointDir = "MLPORTAL_CHECKPOINT_DIR"
)

// passedByDefault are the server's variables every job sees.
var passedByDefault = []string{"PATH", "HOME", "LANG", "TMPDIR"}

// replicaEnv is what one replica is told about itself.
type replicaEnv struct {
	JobID         string
	Attempt       int
	CheckpointDir string
	Venv          string // "" without requirements.txt
	GPUs          []int
	Rank          int
	Replicas      int
	MasterPort    int
}

// jobEnv builds a replica's environment, in this order (later wins):
//  1. from the server's environment only PATH, HOME, LANG, TMPDIR and the
//     names matching pass (exact, or a prefix ending in "*");
//  2. the job's own variables (spec.Env), and PYTHONUNBUFFERED=1 unless the
//     job sets it, so that logs arrive as they are printed;
//  3. what the executor owns: MLPORTAL_JOB_ID, MLPORTAL_ATTEMPT,
//     MLPORTAL_CHECKPOINT_DIR, the GPUs (CUDA_VISIBLE_DEVICES,
//     NVIDIA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA
//     numbers devices as nvidia-smi does), the virtualenv (VIRTUAL_ENV, its
//     bin first on PATH) and, with several replicas, RANK, LOCAL_RANK,
//     WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT.
func jobEnv(server []string, pass []string, spec map[string]string, r replicaEnv) []string {
	env := map[string]string{}
	for _, kv := range server {
		name, value, ok := strings.Cut(kv, "=")
		if ok && passes(name, pass) {
			env[name] = value
		}
	}
	for k, v := range spec {
		env[k] = v
	}
	if _, ok := spec["PYTHONUNBUFFERED"]; !ok {
		env["PYTHONUNBUFFERED"] = "1"
	}
	env[envJobID] = r.JobID
	env[envAttempt] = strconv.Itoa(r.Attempt)
	env[envCheckpointDir] = r.CheckpointDir
	devices := make([]string, len(r.GPUs))
	for i, d := range r.GPUs {
		devices[i] = strconv.Itoa(d)
	}
	env["CUDA_VISIBLE_DEVICES"] = strings.Join(devices, ",")
	env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
	if len(devices) == 0 {
		env["NVIDIA_VISIBLE_DEVICES"] = "none"
	} else {
		env["NVIDIA_VISIBLE_DEVICES"] = env["CUDA_VISIBLE_DEVICES"]
	}
	if r.Venv != "" {
		env["VIRTUAL_ENV"] = r.Venv
		bin := filepath.Join(r.Venv, "bin")
		if p := env["PATH"]; p != "" {
			env["PATH"] = bin + string(os.PathListSeparator) + p
		} else {
			env["PATH"] = bin
		}
		delete(env, "PYTHONHOME")
	}
	if r.Replicas > 1 {
		env["RANK"] = strconv.Itoa(r.Rank)
		env["LOCAL_RANK"] = strconv.Itoa(r.Rank)
		env["WORLD_SIZE"] = strconv.Itoa(r.Replicas)
		env["LOCAL_WORLD_SIZE"] = strconv.Itoa(r.Replicas)
		env["MASTER_ADDR"] = "127.0.0.1"
		env["MASTER_PORT"] = strconv.Itoa(r.MasterPort)
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// passes reports whether the server's variable name reaches jobs.
func passes(name string, pass []string) bool {
	for _, p := range passedByDefault {
		if name == p {
			return true
		}
	}
	for _, p := range pass {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}
