package testenv

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Well-known names of the simulated GPU nodes.
const (
	// GPUResource is the extended resource the NVIDIA device plugin advertises.
	GPUResource corev1.ResourceName = "nvidia.com/gpu"
	// GPUProductLabel is the GPU model label set by NVIDIA's feature discovery.
	GPUProductLabel = "nvidia.com/gpu.product"
	// PoolLabel names the mlportal node pool a node belongs to.
	PoolLabel = "mlportal.io/pool"
	// KwokNodeAnnotation marks nodes kwok manages (value "fake").
	KwokNodeAnnotation = "kwok.x-k8s.io/node"
	// GPUTaintKey is the taint GPU nodes carry (value "present", NoSchedule);
	// GPU pods must tolerate it.
	GPUTaintKey = "nvidia.com/gpu"
)

// GPUNodeOptions shapes the nodes AddGPUNodes creates. Zero fields take the
// defaults in brackets.
type GPUNodeOptions struct {
	GPUs    int               // GPUs per node [8]
	Product string            // nvidia.com/gpu.product [NVIDIA-A100-SXM4-80GB]
	Pool    string            // mlportal.io/pool [default]
	CPU     string            // cpu capacity [64]
	Memory  string            // memory capacity [512Gi]
	Pods    string            // pod capacity [110]
	Labels  map[string]string // extra labels
	// ReadyTimeout bounds the wait until the nodes are Ready and untainted
	// by the node lifecycle controller [2m].
	ReadyTimeout time.Duration
}

func (o GPUNodeOptions) withDefaults() GPUNodeOptions {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	if o.GPUs == 0 {
		o.GPUs = 8
	}
	def(&o.Product, "NVIDIA-A100-SXM4-80GB")
	def(&o.Pool, "default")
	def(&o.CPU, "64")
	def(&o.Memory, "512Gi")
	def(&o.Pods, "110")
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	return o
}

// AddGPUNodes creates n kwok-managed GPU nodes and waits until all are Ready
// and schedulable. It returns their names. Nodes are cluster-scoped and live
// as long as the cluster: select them by PoolLabel to keep tests apart.
func (c *Cluster) AddGPUNodes(ctx context.Context, n int, opts GPUNodeOptions) ([]string, error) {
	o := opts.withDefaults()
	resources := corev1.ResourceList{}
	for name, q := range map[corev1.ResourceName]string{
		corev1.ResourceCPU: o.CPU, corev1.ResourceMemory: o.Memory, corev1.ResourcePods: o.Pods,
		GPUResource: fmt.Sprint(o.GPUs),
	} {
		v, err := resource.ParseQuantity(q)
		if err != nil {
			return nil, fmt.Errorf("testenv: node resource %s=%q: %w", name, q, err)
		}
		resources[name] = v
	}
	lbls := map[string]string{
		"type":                 "kwok",
		GPUProductLabel:        o.Product,
		PoolLabel:              o.Pool,
		"nvidia.com/gpu.count": fmt.Sprint(o.GPUs),
	}
	maps.Copy(lbls, o.Labels)

	c.mu.Lock()
	first := c.nodeSeq
	c.nodeSeq += n
	c.mu.Unlock()

	cs := c.Clientset()
	names := make([]string, 0, n)
	for i := range n {
		name := fmt.Sprintf("kwok-gpu-%s-%05d", strings.Trim(nonName.ReplaceAllString(strings.ToLower(o.Pool), "-"), "-"), first+i)
		nodeLabels := maps.Clone(lbls)
		nodeLabels[corev1.LabelHostname] = name
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      nodeLabels,
				Annotations: map[string]string{KwokNodeAnnotation: "fake"},
			},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{{
				Key: GPUTaintKey, Value: "present", Effect: corev1.TaintEffectNoSchedule,
			}}},
			Status: corev1.NodeStatus{Capacity: resources, Allocatable: resources},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return names, fmt.Errorf("testenv: create node %s: %w", name, err)
		}
		names = append(names, name)
	}
	if err := c.waitNodesReady(ctx, o.Pool, names, o.ReadyTimeout); err != nil {
		return names, err
	}
	return names, nil
}

// waitNodesReady polls until every named node is Ready and carries no
// node.kubernetes.io taint.
func (c *Cluster) waitNodesReady(ctx context.Context, pool string, names []string, timeout time.Duration) error {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	sel := labels.SelectorFromSet(labels.Set{PoolLabel: pool}).String()
	var pending int
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := c.Clientset().CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return false, nil //nolint:nilerr // transient; the timeout bounds retries
		}
		pending = len(names)
		for i := range list.Items {
			if want[list.Items[i].Name] && nodeSchedulable(&list.Items[i]) {
				pending--
			}
		}
		return pending == 0, nil
	})
	if err != nil {
		return fmt.Errorf("testenv: %d of %d nodes not Ready and untainted after %s (kwok log: %s/kwok.log, "+
			"kube-controller-manager log: %s/kube-controller-manager.log): %w", pending, len(names), timeout, c.logDir, c.logDir, err)
	}
	return nil
}

func nodeSchedulable(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
