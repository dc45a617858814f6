package local

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/executor"
)

func TestParseNvidiaSMI(t *testing.T) {
	in := "0, GPU-1b7c, NVIDIA A100-SXM4-80GB, 81920\n" +
		"1, GPU-2c8d, NVIDIA A100-SXM4-80GB, 81920\n" +
		"\n" +
		"2, GPU-3d9e, NVIDIA H100 80GB HBM3, 81559\n"
	got, err := parseNvidiaSMI(strings.NewReader(in), map[string]string{"NVIDIA H100 80GB HBM3": "h100"})
	if err != nil {
		t.Fatal(err)
	}
	want := []gpu{
		{Index: 0, UUID: "GPU-1b7c", Name: "NVIDIA A100-SXM4-80GB", MemoryBytes: 81920 << 20, Type: "a100-80gb"},
		{Index: 1, UUID: "GPU-2c8d", Name: "NVIDIA A100-SXM4-80GB", MemoryBytes: 81920 << 20, Type: "a100-80gb"},
		{Index: 2, UUID: "GPU-3d9e", Name: "NVIDIA H100 80GB HBM3", MemoryBytes: 81559 << 20, Type: "h100"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parse (-want +got):\n%s", d)
	}
}

func TestParseNvidiaSMIRefusesGarbage(t *testing.T) {
	for name, in := range map[string]string{
		"too few fields":   "0, GPU-1, A100\n",
		"index not number": "x, GPU-1, A100, 10\n",
		"negative index":   "-1, GPU-1, A100, 10\n",
		"memory with unit": "0, GPU-1, A100, 10 MiB\n",
		"duplicate index":  "0, GPU-1, A100, 10\n0, GPU-2, A100, 10\n",
		"no name":          "0, GPU-1, , 10\n",
		"not csv":          "0, \"GPU-1, A100, 10\n",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := parseNvidiaSMI(strings.NewReader(in), nil); err == nil {
				t.Errorf("parsed %q as %+v, want an error", in, got)
			}
		})
	}
}

func TestNormalizeGPUName(t *testing.T) {
	for in, want := range map[string]string{
		"NVIDIA A100-SXM4-80GB":     "a100-80gb",
		"NVIDIA A100-SXM4-40GB":     "a100-40gb",
		"NVIDIA A100-PCIE-40GB":     "a100-40gb",
		"NVIDIA A100 80GB PCIe":     "a100-80gb",
		"NVIDIA H100 80GB HBM3":     "h100-80gb",
		"NVIDIA H100 PCIe":          "h100",
		"NVIDIA H100 NVL":           "h100",
		"Tesla V100-SXM2-16GB":      "v100-16gb",
		"Tesla T4":                  "t4",
		"NVIDIA L4":                 "l4",
		"NVIDIA L40S":               "l40s",
		"NVIDIA GeForce RTX 4090":   "rtx-4090",
		"NVIDIA RTX A6000":          "rtx-a6000",
		"Quadro RTX 8000":           "rtx-8000",
		"NVIDIA":                    "gpu",
		"NVIDIA H200 141GB HBM3e":   "h200-141gb",
		"NVIDIA GH200 480GB":        "gh200-480gb",
		"  nvidia  a10g  ":          "a10g",
		"NVIDIA B200":               "b200",
		"NVIDIA A100-SXM4-80GB MIG": "a100-80gb",
	} {
		if got := NormalizeGPUName(in); got != want {
			t.Errorf("NormalizeGPUName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseNvidiaSMI: the parser never panics, and what it accepts has
// distinct non-negative indices and a GPU type made of [a-z0-9-].
func FuzzParseNvidiaSMI(f *testing.F) {
	f.Add("0, GPU-1b7c, NVIDIA A100-SXM4-80GB, 81920\n1, GPU-2, Tesla T4, 15360\n")
	f.Add("0,,x,0")
	f.Add("\"0\", \"a,b\", \"NVIDIA\", 1\n")
	f.Fuzz(func(t *testing.T, in string) {
		gpus, err := parseNvidiaSMI(strings.NewReader(in), nil)
		if err != nil {
			return
		}
		seen := map[int]bool{}
		for _, g := range gpus {
			if g.Index < 0 || seen[g.Index] || g.MemoryBytes < 0 {
				t.Fatalf("accepted bad device %+v from %q", g, in)
			}
			seen[g.Index] = true
			if g.Type == "" || strings.Trim(g.Type, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				t.Fatalf("type %q of %q is not a GPU type", g.Type, g.Name)
			}
		}
	})
}

func TestJobEnv(t *testing.T) {
	server := []string{"PATH=/usr/bin", "HOME=/home/u", "LANG=C.UTF-8", "SECRET_TOKEN=s3cret",
		"AWS_SECRET_ACCESS_KEY=k", "LC_ALL=C", "MLPORTAL_ADMIN_TOKEN=t", "HTTPS_PROXY=p"}
	env := jobEnv(server, []string{"LC_*", "HTTPS_PROXY"}, map[string]string{
		"FOO": "bar", "CUDA_VISIBLE_DEVICES": "0,1,2,3", "MLPORTAL_JOB_ID": "spoofed",
	}, replicaEnv{
		JobID: "j1", Attempt: 2, CheckpointDir: "/ckpt", Venv: "/venvs/abc",
		GPUs: []int{2, 3}, Rank: 1, Replicas: 2, MasterPort: 29500,
	})
	want := []string{
		"CUDA_DEVICE_ORDER=PCI_BUS_ID",
		"CUDA_VISIBLE_DEVICES=2,3",
		"FOO=bar",
		"HOME=/home/u",
		"HTTPS_PROXY=p",
		"LANG=C.UTF-8",
		"LC_ALL=C",
		"LOCAL_RANK=1",
		"LOCAL_WORLD_SIZE=2",
		"MASTER_ADDR=127.0.0.1",
		"MASTER_PORT=29500",
		"MLPORTAL_ATTEMPT=2",
		"MLPORTAL_CHECKPOINT_DIR=/ckpt",
		"MLPORTAL_JOB_ID=j1",
		"NVIDIA_VISIBLE_DEVICES=2,3",
		"PATH=" + filepath.Join("/venvs/abc", "bin") + ":/usr/bin",
		"PYTHONUNBUFFERED=1",
		"RANK=1",
		"VIRTUAL_ENV=/venvs/abc",
		"WORLD_SIZE=2",
	}
	if d := cmp.Diff(want, env); d != "" {
		t.Errorf("env (-want +got):\n%s", d)
	}
}

func TestJobEnvSingleReplicaNoGPUs(t *testing.T) {
	env := jobEnv([]string{"PATH=/bin", "TMPDIR=/tmp", "USER=u"}, nil, map[string]string{"PYTHONUNBUFFERED": "0"},
		replicaEnv{JobID: "j", Attempt: 1, CheckpointDir: "/c", Replicas: 1})
	want := []string{
		"CUDA_DEVICE_ORDER=PCI_BUS_ID",
		"CUDA_VISIBLE_DEVICES=",
		"MLPORTAL_ATTEMPT=1",
		"MLPORTAL_CHECKPOINT_DIR=/c",
		"MLPORTAL_JOB_ID=j",
		"NVIDIA_VISIBLE_DEVICES=none",
		"PATH=/bin",
		"PYTHONUNBUFFERED=0",
		"TMPDIR=/tmp",
	}
	if d := cmp.Diff(want, env); d != "" {
		t.Errorf("env (-want +got):\n%s", d)
	}
}

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as a process may choose.
	line := "4242 (my (odd) job) S 1 4240 4200 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n"
	got, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{State: 'S', PGRP: 4240, Start: 987654}); got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}
	if _, err := parseProcStat([]byte("4242 (x) S 1")); err == nil {
		t.Error("a truncated stat line parsed")
	}
}

func TestStateRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "jobs", "j", "state.json")
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	st := &jobState{
		Version: stateVersion, Attempt: 2, Phase: executor.PhaseRunning, CreatedAt: now, StartedAt: now,
		Spec: executor.Spec{JobID: "j", Command: []string{"python", "train.py"}, Env: map[string]string{"A": "b"}, Timeout: time.Hour, GPUs: 1, Replicas: 1},
		PGID: 100, LeaderStart: 5, Replicas: []replicaState{{Index: 0, GPUs: []int{3}, PID: 100, Start: 5}},
		Stop:     &stopState{Reason: "preempt", RequestedAt: now, KillAt: now.Add(time.Minute)},
		Deadline: now.Add(time.Hour), CheckpointDir: "/c",
	}
	if err := saveState(p, st); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(st, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestDescribeExit(t *testing.T) {
	for code, want := range map[int]string{
		0: "exit code 0", 1: "exit code 1", 127: "command not found", 143: "signal 15", -1: "killed while the server was down",
	} {
		if got := describeExit(code); !strings.Contains(got, want) {
			t.Errorf("describeExit(%d) = %q, want it to mention %q", code, got, want)
		}
	}
}
