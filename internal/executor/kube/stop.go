package kube

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
)

// Stop records reason (in the executor and on the pods), deletes the pods
// with grace (SIGTERM, then a kill once grace has passed) and returns once
// they are gone. Status then reports Cancelled or Preempted until Cleanup;
// after a restart of mlportal the controller, which asked for the stop,
// knows the reason itself. Stopping an ended or unknown job is a no-op.
func (e *Executor) Stop(ctx context.Context, jobID string, reason executor.StopReason, grace time.Duration) error {
	if reason != executor.StopCancel && reason != executor.StopPreempt {
		return fault.Invalid("unknown stop reason", fault.Field("reason", "must be %q or %q (got %q)", executor.StopCancel, executor.StopPreempt, reason))
	}
	r, ok, err := e.current(ctx, jobID)
	if err != nil || !ok {
		return err
	}
	st := derive(jobID, r, e.cfg.Clock.Now())
	if st.Phase.Final() && r.stop == nil {
		return nil
	}
	// 1. The reason first: whatever happens next, Status tells it.
	rec := stopRecord{attempt: r.attempt, reason: string(reason), at: e.cfg.Clock.Now().UTC().Format(time.RFC3339)}
	if r.stop != nil {
		rec = *r.stop
	}
	e.mu.Lock()
	e.stops[jobID] = rec
	e.mu.Unlock()
	// 2. SIGTERM now, SIGKILL after grace: the kubelet's part.
	secs := max(1, int64(math.Ceil(grace.Seconds())))
	for _, p := range r.pods {
		if p == nil || !live(p) || p.DeletionTimestamp != nil {
			continue
		}
		if p.Annotations[AnnotationStopReason] == "" {
			if err := e.annotate(ctx, p, rec); err != nil {
				return err
			}
		}
		uid := p.UID
		err := e.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &secs, Preconditions: &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return mapError(err, "delete", "pods", p.Namespace, p.Name)
		}
	}
	e.log.InfoContext(ctx, "kubernetes job stopping", "job", jobID, "attempt", r.attempt, "namespace", r.ns, "reason", reason, "grace", grace)
	return e.waitPodsGone(ctx, jobID, r.attempt, grace+e.cfg.StopTimeout)
}

// annotate records the stop on a pod, for a restarted mlportal.
func (e *Executor) annotate(ctx context.Context, p *corev1.Pod, rec stopRecord) error {
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		AnnotationStopReason: rec.reason, AnnotationStoppedAt: rec.at,
	}}})
	if err != nil {
		return err
	}
	_, err = e.cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: tenancy.FieldManager})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return mapError(err, "patch", "pods", p.Namespace, p.Name)
}

// waitPodsGone polls the watch cache until no pod of the attempt holds its
// node.
func (e *Executor) waitPodsGone(ctx context.Context, jobID string, attempt int, timeout time.Duration) error {
	var left []string
	err := wait.PollUntilContextTimeout(ctx, e.cfg.PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		wc, err := e.caches(ctx)
		if err != nil {
			return false, err
		}
		left = left[:0]
		for _, p := range wc.podsOfJob(jobID) {
			if atoi(p.Labels[LabelAttempt]) == attempt && live(p) {
				left = append(left, p.Name+" on node "+p.Spec.NodeName)
			}
		}
		return len(left) == 0, nil
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	return fault.New(fault.ErrUnavailable, "the pods of job %q did not stop within %s: %s; their node may be unreachable. "+
		"Stop the job again later, or have a cluster admin delete the pods by force", jobID, timeout, strings.Join(left, ", "))
}

// Cleanup deletes every attempt's pods and the rendezvous Services, and
// forgets the job. It is idempotent.
func (e *Executor) Cleanup(ctx context.Context, jobID string) error {
	wc, err := e.caches(ctx)
	if err != nil {
		return err
	}
	pods := wc.podsOfJob(jobID)
	e.mu.Lock()
	ns, known := e.namespaces[jobID]
	e.mu.Unlock()
	gang := false
	for _, p := range pods {
		ns = p.Namespace
		gang = gang || atoi(p.Annotations[AnnotationReplicas]) > 1
	}
	if ns == "" {
		// Not in the cache and not started by this process: look for a
		// Service left by an earlier run.
		list, err := e.cs.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: jobSelector(jobID)})
		if err != nil {
			return mapError(err, "list", "services", "", "")
		}
		if len(list.Items) == 0 {
			e.forget(jobID)
			return nil
		}
		ns, gang = list.Items[0].Namespace, true
	}
	gone := func(err error) bool { return err == nil || apierrors.IsNotFound(err) }
	// One call, whatever the cache has seen yet.
	sel := metav1.ListOptions{LabelSelector: jobSelector(jobID)}
	if err := e.cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, sel); !gone(err) {
		return mapError(err, "deletecollection", "pods", ns, "")
	}
	if gang || !known || len(pods) == 0 {
		svcs, err := e.cs.CoreV1().Services(ns).List(ctx, sel)
		if err != nil {
			return mapError(err, "list", "services", ns, "")
		}
		for _, s := range svcs.Items {
			if err := e.cs.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); !gone(err) {
				return mapError(err, "delete", "services", ns, s.Name)
			}
		}
	}
	e.forget(jobID)
	e.log.DebugContext(ctx, "kubernetes job cleaned up", "job", jobID, "namespace", ns, "pods", len(pods))
	return nil
}
