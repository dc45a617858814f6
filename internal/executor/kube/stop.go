package kube

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
)

// Stop records reason on the job's Jobs, deletes their pods with grace
// (SIGTERM, then a kill once grace has passed), suspends the Jobs so that
// no pod is recreated, and returns once the pods are gone. The Jobs stay
// until Cleanup, so Status then reports Cancelled or Preempted. Stopping an
// ended or unknown job is a no-op.
func (e *Executor) Stop(ctx context.Context, jobID string, reason executor.StopReason, grace time.Duration) error {
	if reason != executor.StopCancel && reason != executor.StopPreempt {
		return fault.Invalid("unknown stop reason", fault.Field("reason", "must be %q or %q (got %q)", executor.StopCancel, executor.StopPreempt, reason))
	}
	r, ok, err := e.current(ctx, jobID)
	if err != nil || !ok {
		return err
	}
	st := derive(jobID, r, nil)
	stopped := slices.ContainsFunc(r.jobs, func(j batchv1.Job) bool { return j.Annotations[AnnotationStopReason] != "" })
	if st.Phase.Final() && !stopped {
		return nil
	}
	// 1. The reason first: whatever happens next, Status tells it.
	for _, j := range r.jobs {
		if j.Annotations[AnnotationStopReason] != "" {
			continue
		}
		patch := map[string]any{"metadata": map[string]any{"annotations": map[string]string{
			AnnotationStopReason: string(reason),
			AnnotationStoppedAt:  e.cfg.Clock.Now().UTC().Format(time.RFC3339),
		}}}
		if err := e.patchJob(ctx, r.ns, j.Name, patch); err != nil {
			return err
		}
	}
	// 2. SIGTERM now, SIGKILL after grace: the kubelet's part.
	secs := max(1, int64(math.Ceil(grace.Seconds())))
	for i := range r.pods {
		p := &r.pods[i]
		if !live(p) || p.DeletionTimestamp != nil {
			continue
		}
		uid := p.UID
		err := e.cs.CoreV1().Pods(r.ns).Delete(ctx, p.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &secs, Preconditions: &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return mapError(err, "delete", "pods", r.ns, p.Name)
		}
	}
	// 3. No replacement pod, even from a Job whose pod was not created yet.
	for _, j := range r.jobs {
		if finished(&j) != "" || (j.Spec.Suspend != nil && *j.Spec.Suspend) {
			continue
		}
		err := e.patchJob(ctx, r.ns, j.Name, map[string]any{"spec": map[string]any{"suspend": true}})
		// A Job that finished meanwhile may refuse; its pods are gone anyway.
		if err != nil && !errors.Is(err, fault.ErrInvalid) {
			return err
		}
	}
	e.log.InfoContext(ctx, "kubernetes job stopping", "job", jobID, "attempt", r.attempt, "namespace", r.ns, "reason", reason, "grace", grace)
	return e.waitPodsGone(ctx, jobID, r, grace+e.cfg.StopTimeout)
}

func (e *Executor) patchJob(ctx context.Context, ns, name string, patch map[string]any) error {
	body, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = e.cs.BatchV1().Jobs(ns).Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: tenancy.FieldManager})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return mapError(err, "patch", "jobs", ns, name)
}

// waitPodsGone polls until no pod of the attempt holds its node.
func (e *Executor) waitPodsGone(ctx context.Context, jobID string, r run, timeout time.Duration) error {
	var left []string
	err := wait.PollUntilContextTimeout(ctx, e.cfg.PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := e.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{LabelSelector: attemptSelector(jobID, r.attempt)})
		if err != nil {
			return false, mapError(err, "list", "pods", r.ns, "")
		}
		left = left[:0]
		for i := range pods.Items {
			if p := &pods.Items[i]; live(p) {
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

// Cleanup deletes every attempt's Jobs (foreground: pods first), any pod
// left and the rendezvous Services. It is idempotent.
func (e *Executor) Cleanup(ctx context.Context, jobID string) error {
	ns, ok, err := e.locate(ctx, jobID)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	opts := metav1.ListOptions{LabelSelector: jobSelector(jobID)}
	fg := metav1.DeletePropagationForeground
	del := metav1.DeleteOptions{PropagationPolicy: &fg}
	gone := func(err error) bool { return err == nil || apierrors.IsNotFound(err) }

	jobs, err := e.cs.BatchV1().Jobs(ns).List(ctx, opts)
	if err != nil {
		return mapError(err, "list", "jobs", ns, "")
	}
	for _, j := range jobs.Items {
		if err := e.cs.BatchV1().Jobs(ns).Delete(ctx, j.Name, del); !gone(err) {
			return mapError(err, "delete", "jobs", ns, j.Name)
		}
	}
	pods, err := e.cs.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		return mapError(err, "list", "pods", ns, "")
	}
	for _, p := range pods.Items {
		if err := e.cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{}); !gone(err) {
			return mapError(err, "delete", "pods", ns, p.Name)
		}
	}
	svcs, err := e.cs.CoreV1().Services(ns).List(ctx, opts)
	if err != nil {
		return mapError(err, "list", "services", ns, "")
	}
	for _, s := range svcs.Items {
		if err := e.cs.CoreV1().Services(ns).Delete(ctx, s.Name, del); !gone(err) {
			return mapError(err, "delete", "services", ns, s.Name)
		}
	}
	e.forget(jobID)
	e.log.InfoContext(ctx, "kubernetes job cleaned up", "job", jobID, "namespace", ns, "jobs", len(jobs.Items))
	return nil
}
