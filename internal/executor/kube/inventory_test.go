package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/scheduler"
)

func gpuNode(name string, gpus string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("63500m"), corev1.ResourceMemory: resource.MustParse("500Gi")}
	if gpus != "" {
		alloc["nvidia.com/gpu"] = resource.MustParse(gpus)
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Allocatable: alloc, Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
		}},
	}
}

func TestNode(t *testing.T) {
	e := &Executor{cfg: Config{}.withDefaults()}
	noSched := func(k, v string) corev1.Taint {
		return corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffectNoSchedule}
	}
	notReady := gpuNode("n", "8", nil)
	notReady.Status.Conditions[0].Status = corev1.ConditionUnknown
	cordoned := gpuNode("n", "8", nil)
	cordoned.Spec.Unschedulable = true

	base := scheduler.Node{Name: "n", Pool: scheduler.PoolOnDemand, GPUs: 8, CPUMillis: 63500, MemoryBytes: 500 << 30}
	with := func(f func(*scheduler.Node)) scheduler.Node { n := base; f(&n); return n }
	tests := []struct {
		name string
		node *corev1.Node
		want *scheduler.Node // nil: not listed
	}{
		{name: "no GPUs", node: gpuNode("n", "", nil)},
		{name: "zero GPUs", node: gpuNode("n", "0", nil)},
		{name: "product label normalised", node: gpuNode("n", "8", map[string]string{"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}),
			want: ptr(with(func(n *scheduler.Node) { n.GPUType = "nvidia-h100-80gb-hbm3" }))},
		{name: "mlportal's type wins", node: gpuNode("n", "8", map[string]string{"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", GPUTypeLabel: "h100"}),
			want: ptr(with(func(n *scheduler.Node) { n.GPUType = "h100" }))},
		{name: "spot pool and GPU memory", node: gpuNode("n", "8", map[string]string{"mlportal.io/pool": "spot", GPUMemoryLabel: "40960"}),
			want: ptr(with(func(n *scheduler.Node) { n.Pool, n.GPUMemoryBytes = scheduler.PoolSpot, 40<<30 }))},
		{name: "taints the executor tolerates itself are left out",
			node: gpuNode("n", "8", nil, noSched("nvidia.com/gpu", "present"), noSched("mlportal.io/spot", "true"), noSched("dedicated", "infer"),
				corev1.Taint{Key: "soft", Effect: corev1.TaintEffectPreferNoSchedule}),
			want: ptr(with(func(n *scheduler.Node) { n.Taints = []scheduler.Taint{{Key: "dedicated", Value: "infer"}} }))},
		{name: "not-ready taint", node: gpuNode("n", "8", nil, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}),
			want: ptr(with(func(n *scheduler.Node) { n.Unschedulable = true }))},
		{name: "not ready", node: notReady, want: ptr(with(func(n *scheduler.Node) { n.Unschedulable = true }))},
		{name: "cordoned", node: cordoned, want: ptr(with(func(n *scheduler.Node) { n.Unschedulable = true }))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := e.node(tt.node)
			if tt.want == nil {
				if ok {
					t.Errorf("listed %+v, want left out", got)
				}
				return
			}
			got.Labels = nil
			if diff := cmp.Diff(*tt.want, got); !ok || diff != "" {
				t.Errorf("node (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeGPUType(t *testing.T) {
	for in, want := range map[string]string{
		"NVIDIA-A100-SXM4-80GB": "nvidia-a100-sxm4-80gb",
		"Tesla T4":              "tesla-t4",
		"NVIDIA_L40S":           "nvidia-l40s",
		"  GH200 (480GB) ":      "gh200-480gb",
		"":                      "",
	} {
		if got := NormalizeGPUType(in); got != want {
			t.Errorf("NormalizeGPUType(%q) = %q, want %q", in, got, want)
		}
	}
}
