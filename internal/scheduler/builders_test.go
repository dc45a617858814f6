package scheduler_test

import (
	"fmt"
	"time"

	"github.com/mlportal/mlportal/internal/scheduler"
)

const gi = int64(1) << 30

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// jb builds a Job: job("j1", "team-a").gpus(2).obj().
type jb struct{ j scheduler.Job }

func job(id, team string) *jb {
	return &jb{scheduler.Job{ID: id, Team: team, GPUType: "a100", GPUs: 1, Replicas: 1, Priority: scheduler.PriorityBatch,
		CPUMillis: 4000, MemoryBytes: 16 * gi, SubmittedAt: t0, EstimatedDuration: time.Hour}}
}

func (b *jb) gpus(n int) *jb                     { b.j.GPUs = n; return b }
func (b *jb) replicas(n int) *jb                 { b.j.Replicas = n; return b }
func (b *jb) typ(t string) *jb                   { b.j.GPUType = t; return b }
func (b *jb) prio(p scheduler.PriorityClass) *jb { b.j.Priority = p; return b }
func (b *jb) preemptible() *jb                   { b.j.Preemptible = true; return b }
func (b *jb) checkpointable() *jb                { b.j.Checkpointable = true; return b }
func (b *jb) est(d time.Duration) *jb            { b.j.EstimatedDuration = d; return b }
func (b *jb) at(d time.Duration) *jb             { b.j.SubmittedAt = t0.Add(d); return b }
func (b *jb) cpu(m int64) *jb                    { b.j.CPUMillis = m; return b }
func (b *jb) mem(m int64) *jb                    { b.j.MemoryBytes = m; return b }
func (b *jb) gpuMem(m int64) *jb                 { b.j.GPUMemoryBytes = m; return b }
func (b *jb) selector(k, v string) *jb           { b.j.NodeSelector = map[string]string{k: v}; return b }
func (b *jb) tolerate(k string) *jb {
	b.j.Tolerations = append(b.j.Tolerations, scheduler.Toleration{Key: k})
	return b
}
func (b *jb) obj() scheduler.Job { return b.j }
func (b *jb) on(started time.Duration, nodes ...string) scheduler.Allocation {
	return scheduler.Allocation{Job: b.j, Nodes: nodes, StartedAt: t0.Add(started)}
}

// nodes returns n nodes named prefix-0.. with gpus GPUs of type typ in pool.
func nodes(prefix string, n, gpus int, typ string, pool scheduler.Pool) []scheduler.Node {
	out := make([]scheduler.Node, n)
	for i := range out {
		out[i] = scheduler.Node{Name: fmt.Sprintf("%s-%d", prefix, i), Pool: pool, GPUType: typ, GPUs: gpus,
			GPUMemoryBytes: 80 * gi, CPUMillis: 96000, MemoryBytes: 1024 * gi}
	}
	return out
}

func team(name string, nominal, limit int) scheduler.Team {
	return scheduler.Team{Name: name, Quota: []scheduler.GPUQuota{{GPUType: "a100", Nominal: nominal, BorrowingLimit: limit}}}
}

func concat[T any](xs ...[]T) []T {
	var out []T
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

// admitted maps each admitted job to its nodes.
func admitted(d scheduler.Decision) map[string][]string {
	m := map[string][]string{}
	for _, a := range d.Admit {
		m[a.JobID] = a.Nodes
	}
	return m
}

func pendingOf(d scheduler.Decision, id string) (scheduler.Pending, bool) {
	for _, p := range d.Pending {
		if p.JobID == id {
			return p, true
		}
	}
	return scheduler.Pending{}, false
}
