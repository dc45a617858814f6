package kube

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/tenancy"
)

// Inventory lists, from the watch cache, the nodes with GPUs (or all nodes the configured selector
// picks) as the scheduler sees them, sorted by name.
func (e *Executor) Inventory(ctx context.Context) ([]scheduler.Node, error) {
	wc, err := e.caches(ctx)
	if err != nil {
		return nil, err
	}
	var out []scheduler.Node
	for _, obj := range wc.nodes.GetStore().List() {
		if k, ok := obj.(*corev1.Node); ok {
			if n, ok := e.node(k); ok {
				out = append(out, n)
			}
		}
	}
	slices.SortFunc(out, func(a, b scheduler.Node) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// node converts a Kubernetes node; ok is false for a node without GPUs.
func (e *Executor) node(n *corev1.Node) (scheduler.Node, bool) {
	alloc := n.Status.Allocatable
	gpus, ok := alloc[tenancy.GPUResource]
	if !ok || gpus.Value() <= 0 {
		return scheduler.Node{}, false
	}
	out := scheduler.Node{
		Name:          n.Name,
		Pool:          scheduler.PoolOnDemand,
		GPUType:       gpuType(n.Labels, e.cfg.GPUTypeLabel),
		GPUs:          int(gpus.Value()),
		CPUMillis:     alloc.Cpu().MilliValue(),
		MemoryBytes:   alloc.Memory().Value(),
		Labels:        maps.Clone(n.Labels),
		Unschedulable: n.Spec.Unschedulable || !ready(n),
	}
	if strings.EqualFold(n.Labels[e.cfg.PoolLabel], string(scheduler.PoolSpot)) {
		out.Pool = scheduler.PoolSpot
	}
	if mib, err := strconv.ParseInt(n.Labels[GPUMemoryLabel], 10, 64); err == nil && mib > 0 {
		out.GPUMemoryBytes = mib << 20
	}
	for _, t := range n.Spec.Taints {
		switch {
		case t.Effect == corev1.TaintEffectPreferNoSchedule:
			// A preference, not a rule: the scheduler may place there.
		case t.Key == corev1.TaintNodeUnschedulable || t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable:
			out.Unschedulable = true
		case t.Key == e.cfg.GPUTaintKey || t.Key == e.cfg.SpotTaintKey:
			// Tolerated by Start itself (GPU always, spot for preemptible
			// jobs, which the scheduler alone sends to spot nodes).
		default:
			out.Taints = append(out.Taints, scheduler.Taint{Key: t.Key, Value: t.Value})
		}
	}
	return out, true
}

// ready reports whether the node's Ready condition is True.
func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

var nonType = regexp.MustCompile(`[^a-z0-9.]+`)

// gpuType is the node's GPU type: mlportal.io/gpu-type as given, else the
// product label normalised to lower-case letters, digits, '.' and '-'
// (NVIDIA-A100-SXM4-80GB → nvidia-a100-sxm4-80gb).
func gpuType(l map[string]string, productLabel string) string {
	if t := l[GPUTypeLabel]; t != "" {
		return t
	}
	return NormalizeGPUType(l[productLabel])
}

// NormalizeGPUType turns a GPU product name into an mlportal GPU type:
// lower case, runs of other characters as one '-', at most 63 characters.
func NormalizeGPUType(product string) string {
	s := strings.Trim(nonType.ReplaceAllString(strings.ToLower(product), "-"), "-.")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-.")
	}
	return s
}
