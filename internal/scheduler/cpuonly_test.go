package scheduler_test

import (
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/scheduler"
)

// A machine without GPUs (a laptop running the local executor) runs
// CPU-only jobs, and never a GPU job.
func TestCPUOnlyNodes(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	laptop := scheduler.Node{Name: "laptop", CPUMillis: 8000, MemoryBytes: 16 << 30}
	snap := scheduler.Snapshot{Now: now, Nodes: []scheduler.Node{laptop},
		Teams: []scheduler.Team{{Name: "t", Quota: []scheduler.GPUQuota{{GPUType: "a100", Nominal: 4}}}},
		Pending: []scheduler.Job{
			{ID: "cpu", Team: "t", CPUMillis: 2000, MemoryBytes: 4 << 30, SubmittedAt: now},
			{ID: "gpu", Team: "t", GPUType: "a100", GPUs: 1, CPUMillis: 2000, MemoryBytes: 4 << 30, SubmittedAt: now},
		}}
	d := scheduler.Schedule(snap, scheduler.DefaultPolicy())
	if len(d.Admit) != 1 || d.Admit[0].JobID != "cpu" || d.Admit[0].Nodes[0] != "laptop" {
		t.Fatalf("admitted %+v", d.Admit)
	}
	if len(d.Pending) != 1 || d.Pending[0].JobID != "gpu" || d.Pending[0].Reason != scheduler.ReasonUnplaceable {
		t.Fatalf("pending %+v", d.Pending)
	}
}
