package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
)

// Status reports the job's latest attempt; fault.ErrNotFound when no Job of
// it exists (never started, or cleaned up).
func (e *Executor) Status(ctx context.Context, jobID string) (executor.Status, error) {
	r, ok, err := e.current(ctx, jobID)
	if err != nil {
		return executor.Status{}, err
	}
	if !ok {
		return executor.Status{}, fault.NotFound("job", jobID)
	}
	events, err := e.createFailures(ctx, r)
	if err != nil {
		return executor.Status{}, err
	}
	return derive(jobID, r, events), nil
}

// createFailures reads, for each unfinished Job without a pod, the message
// of its latest FailedCreate event (e.g. the quota's refusal).
func (e *Executor) createFailures(ctx context.Context, r run) (map[string]string, error) {
	out := map[string]string{}
	for _, j := range r.jobs {
		if finished(&j) != "" || len(podsOf(r.pods, &j)) > 0 {
			continue
		}
		sel := fields.Set{"involvedObject.kind": "Job", "involvedObject.name": j.Name, "reason": "FailedCreate"}.AsSelector().String()
		list, err := e.cs.CoreV1().Events(r.ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return nil, mapError(err, "list", "events", r.ns, "")
		}
		var last *corev1.Event
		for i := range list.Items {
			ev := &list.Items[i]
			if last == nil || eventTime(ev).After(eventTime(last)) {
				last = ev
			}
		}
		if last != nil {
			out[j.Name] = last.Message
		}
	}
	return out, nil
}

func eventTime(ev *corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.CreationTimestamp.Time
}

// finished returns the Job's Complete or Failed condition type, or "".
func finished(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

func condition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// podsOf returns the pods of replica Job j, newest first.
func podsOf(pods []corev1.Pod, j *batchv1.Job) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range pods {
		if pods[i].Labels[LabelReplica] == j.Labels[LabelReplica] {
			out = append(out, &pods[i])
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int { return b.CreationTimestamp.Compare(a.CreationTimestamp.Time) })
	return out
}

// live reports whether a pod still holds its node: not Succeeded or Failed,
// or terminating.
func live(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// replica is one replica's derived state.
type replica struct {
	executor.ReplicaStatus
	message  string
	exitCode int
}

// derive is the job's status from its Jobs, pods and create failures (Job
// name → message). It is pure, so tables test it.
func derive(jobID string, r run, createFailures map[string]string) executor.Status {
	st := executor.Status{JobID: jobID}
	reps := make([]replica, 0, len(r.jobs))
	var stopReason, stoppedAt string
	anyLive := false
	for i := range r.jobs {
		j := &r.jobs[i]
		if v := j.Annotations[AnnotationStopReason]; v != "" {
			stopReason, stoppedAt = v, j.Annotations[AnnotationStoppedAt]
		}
		pods := podsOf(r.pods, j)
		for _, p := range pods {
			anyLive = anyLive || live(p)
			if p.Status.StartTime != nil && (st.StartedAt.IsZero() || p.Status.StartTime.Before(&metav1.Time{Time: st.StartedAt})) {
				st.StartedAt = p.Status.StartTime.Time
			}
			st.FinishedAt = later(st.FinishedAt, finishedAt(p))
		}
		for _, t := range []batchv1.JobConditionType{batchv1.JobComplete, batchv1.JobFailed} {
			if c := condition(j, t); c != nil {
				st.FinishedAt = later(st.FinishedAt, c.LastTransitionTime.Time)
			}
		}
		rep := replicaOf(j, pods, createFailures[j.Name])
		rep.Index = atoi(j.Labels[LabelReplica])
		reps = append(reps, rep)
		st.Replicas = append(st.Replicas, rep.ReplicaStatus)
	}
	for len(reps) < r.replicas { // a Job of the gang is missing (a Start cut short)
		rep := replica{message: "not created yet"}
		rep.Index, rep.Phase = len(reps), executor.PhasePending
		reps = append(reps, rep)
		st.Replicas = append(st.Replicas, rep.ReplicaStatus)
	}

	pick := func(ph executor.Phase) *replica {
		for i := range reps {
			if reps[i].Phase == ph {
				return &reps[i]
			}
		}
		return nil
	}
	prefix := func(rep *replica) string {
		if len(reps) > 1 {
			return fmt.Sprintf("replica %d: ", rep.Index)
		}
		return ""
	}
	allSucceeded := len(reps) > 0 && !slices.ContainsFunc(reps, func(x replica) bool { return x.Phase != executor.PhaseSucceeded })

	switch {
	case allSucceeded:
		st.Phase, st.Message = executor.PhaseSucceeded, "completed"
	case stopReason != "" && anyLive:
		st.Phase = executor.PhaseRunning
		if pick(executor.PhaseRunning) == nil {
			st.Phase = executor.PhasePending
		}
		st.Message = fmt.Sprintf("stopping (%s): waiting for the pods to write a checkpoint and exit", stopReason)
		st.FinishedAt = time.Time{}
	case stopReason != "":
		st.Phase, st.Message = stopPhase(stopReason)
		if t, err := time.Parse(time.RFC3339, stoppedAt); err == nil {
			st.FinishedAt = later(st.FinishedAt, t)
		}
	case pick(executor.PhaseTimedOut) != nil:
		rep := pick(executor.PhaseTimedOut)
		st.Phase, st.Message = executor.PhaseTimedOut, prefix(rep)+rep.message
	case pick(executor.PhaseFailed) != nil:
		rep := pick(executor.PhaseFailed)
		st.Phase, st.Message, st.ExitCode = executor.PhaseFailed, prefix(rep)+rep.message, rep.exitCode
	case pick(executor.PhasePending) != nil:
		rep := pick(executor.PhasePending)
		st.Phase, st.Message = executor.PhasePending, prefix(rep)+rep.message
		st.FinishedAt = time.Time{}
	default:
		st.Phase, st.Message = executor.PhaseRunning, "running"
		st.FinishedAt = time.Time{}
	}
	return st
}

func stopPhase(reason string) (executor.Phase, string) {
	switch executor.StopReason(reason) {
	case executor.StopPreempt:
		return executor.PhasePreempted, "preempted to make room for another job; requeued, it resumes from its last checkpoint"
	default:
		return executor.PhaseCancelled, "cancelled"
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func finishedAt(p *corev1.Pod) time.Time {
	var t time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if term := cs.State.Terminated; term != nil {
			t = later(t, term.FinishedAt.Time)
		}
	}
	return t
}

// replicaOf derives one replica from its Job and pods (newest first).
func replicaOf(j *batchv1.Job, pods []*corev1.Pod, createFailure string) replica {
	rep := replica{}
	rep.Node = j.Annotations[AnnotationNode]
	var pod *corev1.Pod
	if len(pods) > 0 {
		pod = pods[0]
		// The pod that failed tells why, not one started after it.
		for _, p := range pods {
			if p.Status.Phase == corev1.PodFailed {
				pod = p
				break
			}
		}
		if pod.Spec.NodeName != "" {
			rep.Node = pod.Spec.NodeName
		}
	}
	set := func(ph executor.Phase, msg string) replica { rep.Phase, rep.message = ph, msg; return rep }

	switch finished(j) {
	case batchv1.JobComplete:
		return set(executor.PhaseSucceeded, "completed")
	case batchv1.JobFailed:
		c := condition(j, batchv1.JobFailed)
		if c.Reason == batchv1.JobReasonDeadlineExceeded {
			limit := "its timeout"
			if d := j.Spec.ActiveDeadlineSeconds; d != nil {
				limit = fmt.Sprintf("its timeout of %s", time.Duration(*d)*time.Second)
			}
			return set(executor.PhaseTimedOut, "stopped: it ran longer than "+limit)
		}
		if pod != nil {
			if msg, code, ok := podFailure(pod); ok {
				rep.exitCode = code
				return set(executor.PhaseFailed, msg)
			}
		}
		return set(executor.PhaseFailed, fmt.Sprintf("the Kubernetes Job failed (%s): %s", c.Reason, c.Message))
	}
	if pod == nil {
		if createFailure != "" {
			return set(executor.PhasePending, "Kubernetes could not create the pod: "+createFailure)
		}
		return set(executor.PhasePending, "waiting for Kubernetes to create the pod")
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return set(executor.PhaseSucceeded, "completed")
	case corev1.PodFailed:
		msg, code, _ := podFailure(pod)
		rep.exitCode = code
		return set(executor.PhaseFailed, msg)
	case corev1.PodRunning:
		return set(executor.PhaseRunning, "running")
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName":
				return set(executor.PhaseFailed, fmt.Sprintf("image pull failed for %q (%s): %s; check the image name and that the cluster may pull it", cs.Image, w.Reason, w.Message))
			case "CreateContainerConfigError", "CreateContainerError":
				return set(executor.PhaseFailed, fmt.Sprintf("the container could not be created (%s): %s", w.Reason, w.Message))
			case "ErrImagePull":
				return set(executor.PhasePending, fmt.Sprintf("pulling image %q failed, retrying: %s", cs.Image, w.Message))
			}
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return set(executor.PhasePending, fmt.Sprintf("waiting for node %s: %s", rep.Node, strings.TrimSpace(c.Message)))
		}
	}
	if pod.Spec.NodeName == "" {
		return set(executor.PhasePending, "waiting to be scheduled on node "+rep.Node)
	}
	return set(executor.PhasePending, "starting on node "+pod.Spec.NodeName)
}

// podFailure says why a pod failed: its container's exit code and reason,
// else the pod's reason (e.g. Evicted). ok is false when the pod says
// nothing.
func podFailure(p *corev1.Pod) (msg string, exitCode int, ok bool) {
	for _, cs := range p.Status.ContainerStatuses {
		term := cs.State.Terminated
		if term == nil {
			term = cs.LastTerminationState.Terminated
		}
		if term == nil || (term.ExitCode == 0 && term.Reason != "OOMKilled") {
			continue
		}
		code := int(term.ExitCode)
		switch term.Reason {
		case "OOMKilled":
			limit := ""
			for _, c := range p.Spec.Containers {
				if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && c.Name == cs.Name {
					limit = " of " + q.String()
				}
			}
			msg = fmt.Sprintf("out of memory (OOMKilled, exit code %d): the job used more than its memory limit%s; ask for more memory", code, limit)
		default:
			msg = fmt.Sprintf("exit code %d", code)
			if term.Reason != "" && term.Reason != "Error" {
				msg += " (" + term.Reason + ")"
			}
		}
		if m := strings.TrimSpace(term.Message); m != "" {
			msg += ": " + m
		}
		return msg, code, true
	}
	if p.Status.Reason != "" || p.Status.Message != "" {
		return fmt.Sprintf("the pod failed (%s): %s", p.Status.Reason, p.Status.Message), 0, true
	}
	return "the pod failed without an exit code", 0, p.Status.Phase == corev1.PodFailed
}
