package local

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
)

// EnvFakeNvidiaSMI names an executable that stands in for nvidia-smi (tests,
// demos on machines without GPUs). It must print what
// `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`
// prints.
const EnvFakeNvidiaSMI = "MLPORTAL_FAKE_NVIDIA_SMI"

// nvidiaSMIArgs are the arguments the inventory query passes to nvidia-smi
// (or to its stand-in).
var nvidiaSMIArgs = []string{"--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"}

// gpu is one device as nvidia-smi reports it.
type gpu struct {
	Index       int
	UUID        string
	Name        string
	MemoryBytes int64
	// Type is the mlportal GPU type the name maps to.
	Type string
}

// detectGPUs runs the nvidia-smi query. bin == "" means no nvidia-smi: a
// CPU-only node.
func detectGPUs(ctx context.Context, bin string, types map[string]string) ([]gpu, error) {
	if bin == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, nvidiaSMIArgs...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stdout.String()+stderr.String(), "No devices were found") {
			return nil, nil // a driver without GPUs: a CPU-only node
		}
		return nil, fault.New(fault.ErrUnavailable,
			"reading the GPU inventory with %s failed (%v): %s; fix the NVIDIA driver (run nvidia-smi by hand to see why) or remove nvidia-smi from the server's PATH to run CPU-only",
			bin, err, strings.TrimSpace(lastLines(stderr.String(), 5)))
	}
	gpus, err := parseNvidiaSMI(&stdout, types)
	if err != nil {
		return nil, fault.New(fault.ErrUnavailable, "reading the GPU inventory from %s: %v", bin, err)
	}
	return gpus, nil
}

// parseNvidiaSMI reads nvidia-smi's CSV (index, uuid, name, memory.total in
// MiB, no header, no units).
func parseNvidiaSMI(r io.Reader, types map[string]string) ([]gpu, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	var gpus []gpu
	seen := map[int]bool{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != 4 {
			return nil, fmt.Errorf("line %d: want 4 fields (index, uuid, name, memory.total), got %d", line, len(rec))
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		idx, err := strconv.Atoi(rec[0])
		if err != nil || idx < 0 {
			return nil, fmt.Errorf("line %d: index %q is not a device number", line, rec[0])
		}
		if seen[idx] {
			return nil, fmt.Errorf("line %d: device %d listed twice", line, idx)
		}
		seen[idx] = true
		if rec[2] == "" {
			return nil, fmt.Errorf("line %d: device %d has no name", line, idx)
		}
		mib, err := strconv.ParseInt(rec[3], 10, 64)
		if err != nil || mib < 0 || mib > 1<<40 {
			return nil, fmt.Errorf("line %d: memory.total %q is not a number of MiB", line, rec[3])
		}
		g := gpu{Index: idx, UUID: rec[1], Name: rec[2], MemoryBytes: mib << 20}
		if t, ok := types[g.Name]; ok {
			g.Type = t
		} else {
			g.Type = NormalizeGPUName(g.Name)
		}
		gpus = append(gpus, g)
	}
	return gpus, nil
}

var (
	memToken = regexp.MustCompile(`^[0-9]+gb$`)
	// formToken matches form factors and memory kinds, which do not change
	// what a job can run on.
	formToken = regexp.MustCompile(`^(sxm[0-9]*|pcie|pci|hbm[0-9]*e?|nvl|mig|oam)$`)
	vendor    = map[string]bool{"nvidia": true, "tesla": true, "geforce": true, "quadro": true}
	splitName = regexp.MustCompile(`[^a-z0-9]+`)
)

// NormalizeGPUName maps an NVIDIA product name to mlportal's GPU type: the
// model in lower case without vendor, brand, form factor or memory kind,
// followed by the memory size when the name carries one.
//
//	NVIDIA A100-SXM4-80GB    → a100-80gb
//	NVIDIA H100 80GB HBM3    → h100-80gb
//	Tesla V100-PCIE-16GB     → v100-16gb
//	NVIDIA GeForce RTX 4090  → rtx-4090
//	NVIDIA L4                → l4
func NormalizeGPUName(name string) string {
	var model []string
	mem := ""
	for _, tok := range splitName.Split(strings.ToLower(name), -1) {
		switch {
		case tok == "" || vendor[tok] || formToken.MatchString(tok):
		case memToken.MatchString(tok):
			mem = tok
		default:
			model = append(model, tok)
		}
	}
	if mem != "" {
		model = append(model, mem)
	}
	if len(model) == 0 {
		return "gpu"
	}
	return strings.Join(model, "-")
}

// nvidiaSMIPath picks what to run for the inventory: the configured stand-in,
// then $MLPORTAL_FAKE_NVIDIA_SMI, then nvidia-smi on PATH, else nothing.
func nvidiaSMIPath(configured string) (string, error) {
	if configured == "" {
		configured = os.Getenv(EnvFakeNvidiaSMI)
	}
	if configured != "" {
		if _, err := exec.LookPath(configured); err != nil {
			return "", fault.Invalid("the nvidia-smi stand-in cannot be run",
				fault.Field("fakeGPUs", "%s is not an executable file (%v); point it at a script that prints nvidia-smi's CSV, or unset it", configured, err))
		}
		return configured, nil
	}
	p, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return "", nil // no driver: a CPU-only node
	}
	return p, nil
}
