package kube

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// jobIndex indexes the cached pods by their mlportal job id.
const jobIndex = "mlportal.io/job"

// informers are the executor's watch caches: the pods carrying LabelJob,
// the nodes Config.NodeSelector picks and every ResourceQuota. Status,
// Inventory, Stop's wait and the quota pre-check read them, so a cycle over
// thousands of jobs costs no API round trip per job.
type watchCache struct {
	mu      sync.Mutex
	started bool
	stop    chan struct{}

	pods   cache.SharedIndexInformer
	nodes  cache.SharedIndexInformer
	quotas cache.SharedIndexInformer
}

// stripManaged drops what the executor never reads from cached objects.
func stripManaged(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// caches starts the informers on first use and waits, bounded by ctx,
// until they have synced. A first list that the apiserver refuses (a
// permission mlportal lacks) is returned as a fault and retried next call.
func (e *Executor) caches(ctx context.Context) (*watchCache, error) {
	c := &e.inf
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		// The informers retry forever; probe once so that a missing
		// permission is an answer, not a hang.
		probe := metav1.ListOptions{Limit: 1}
		if _, err := e.cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{Limit: 1, LabelSelector: LabelJob}); err != nil {
			return nil, mapError(err, "list", "pods", "", "")
		}
		if _, err := e.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1, LabelSelector: e.cfg.NodeSelector}); err != nil {
			return nil, mapError(err, "list", "nodes", "", "")
		}
		if _, err := e.cs.CoreV1().ResourceQuotas(metav1.NamespaceAll).List(ctx, probe); err != nil {
			return nil, mapError(err, "list", "resourcequotas", "", "")
		}
		podF := informers.NewSharedInformerFactoryWithOptions(e.cs, 0,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = LabelJob }),
			informers.WithTransform(stripManaged))
		nodeF := informers.NewSharedInformerFactoryWithOptions(e.cs, 0,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = e.cfg.NodeSelector }),
			informers.WithTransform(stripManaged))
		allF := informers.NewSharedInformerFactoryWithOptions(e.cs, 0, informers.WithTransform(stripManaged))
		c.pods = podF.Core().V1().Pods().Informer()
		if err := c.pods.AddIndexers(cache.Indexers{jobIndex: func(obj any) ([]string, error) {
			if p, ok := obj.(*corev1.Pod); ok && p.Labels[LabelJob] != "" {
				return []string{p.Labels[LabelJob]}, nil
			}
			return nil, nil
		}}); err != nil {
			return nil, fmt.Errorf("kube executor: pod index: %w", err)
		}
		c.nodes = nodeF.Core().V1().Nodes().Informer()
		c.quotas = allF.Core().V1().ResourceQuotas().Informer()
		c.stop = make(chan struct{})
		podF.Start(c.stop)
		nodeF.Start(c.stop)
		allF.Start(c.stop)
		c.started = true
	}
	if !cache.WaitForCacheSync(ctx.Done(), c.pods.HasSynced, c.nodes.HasSynced, c.quotas.HasSynced) {
		return nil, fmt.Errorf("kube executor: the watch caches of pods, nodes and quotas did not sync: %w", context.Cause(ctx))
	}
	return c, nil
}

// Close stops the executor's informers. The executor must not be used
// afterwards.
func (e *Executor) Close() error {
	e.inf.mu.Lock()
	defer e.inf.mu.Unlock()
	if e.inf.started && e.inf.stop != nil {
		close(e.inf.stop)
		e.inf.stop = nil
	}
	return nil
}

// podsOfJob returns the cached pods of a job, every attempt.
func (c *watchCache) podsOfJob(jobID string) []*corev1.Pod {
	objs, _ := c.pods.GetIndexer().ByIndex(jobIndex, jobID)
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	return out
}

// quotasIn returns the cached ResourceQuotas of a namespace.
func (c *watchCache) quotasIn(ns string) []corev1.ResourceQuota {
	objs, _ := c.quotas.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	out := make([]corev1.ResourceQuota, 0, len(objs))
	for _, o := range objs {
		if q, ok := o.(*corev1.ResourceQuota); ok {
			out = append(out, *q)
		}
	}
	return out
}
