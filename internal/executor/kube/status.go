package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
)

// Status reports the job's latest attempt from the watch cache;
// fault.ErrNotFound when nothing of it is known (never started, cleaned up,
// or just started and not yet seen by the cache).
func (e *Executor) Status(ctx context.Context, jobID string) (executor.Status, error) {
	r, ok, err := e.current(ctx, jobID)
	if err != nil {
		return executor.Status{}, err
	}
	if !ok {
		return executor.Status{}, fault.NotFound("job", jobID)
	}
	return derive(jobID, r, e.cfg.Clock.Now()), nil
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

// derive is the job's status from its attempt's pods and Stop's record at
// time now. It is pure, so tables test it.
func derive(jobID string, r run, now time.Time) executor.Status {
	st := executor.Status{JobID: jobID}
	reps := make([]replica, 0, len(r.pods))
	anyLive := false
	for i, p := range r.pods {
		var rep replica
		if p == nil { // a pod of the gang is missing (a Start cut short, or stopped)
			rep.message, rep.Phase = "not created yet", executor.PhasePending
		} else {
			anyLive = anyLive || live(p)
			if p.Status.StartTime != nil && (st.StartedAt.IsZero() || p.Status.StartTime.Time.Before(st.StartedAt)) {
				st.StartedAt = p.Status.StartTime.Time
			}
			st.FinishedAt = later(st.FinishedAt, finishedAt(p))
			rep = replicaOf(p, now)
		}
		rep.Index = i
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
	case r.stop != nil && anyLive:
		st.Phase = executor.PhaseRunning
		if pick(executor.PhaseRunning) == nil {
			st.Phase = executor.PhasePending
		}
		st.Message = fmt.Sprintf("stopping (%s): waiting for the pods to write a checkpoint and exit", r.stop.reason)
		st.FinishedAt = time.Time{}
	case r.stop != nil:
		st.Phase, st.Message = stopPhase(r.stop.reason)
		if t, err := time.Parse(time.RFC3339, r.stop.at); err == nil {
			st.FinishedAt = later(st.FinishedAt, t)
		}
	case pick(executor.PhaseTimedOut) != nil:
		rep := pick(executor.PhaseTimedOut)
		st.Phase, st.Message = executor.PhaseTimedOut, prefix(rep)+rep.message
		st.FinishedAt = later(st.FinishedAt, now)
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

// replicaOf derives one replica from its pod at time now.
func replicaOf(pod *corev1.Pod, now time.Time) replica {
	rep := replica{}
	rep.Node = pod.Annotations[AnnotationNode]
	if pod.Spec.NodeName != "" {
		rep.Node = pod.Spec.NodeName
	}
	set := func(ph executor.Phase, msg string) replica { rep.Phase, rep.message = ph, msg; return rep }
	timedOut := func() replica {
		limit := "its timeout"
		if d := pod.Spec.ActiveDeadlineSeconds; d != nil {
			limit = fmt.Sprintf("its timeout of %s", time.Duration(*d)*time.Second)
		}
		return set(executor.PhaseTimedOut, "stopped: it ran longer than "+limit)
	}

	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return set(executor.PhaseSucceeded, "completed")
	case corev1.PodFailed:
		if pod.Status.Reason == "DeadlineExceeded" {
			return timedOut()
		}
		msg, code, _ := podFailure(pod)
		rep.exitCode = code
		return set(executor.PhaseFailed, msg)
	}
	// The kubelet enforces activeDeadlineSeconds; a node that does not (or
	// lags) still ends the attempt on time here, and Cleanup removes the pod.
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && pod.Status.StartTime != nil &&
		now.Sub(pod.Status.StartTime.Time) > time.Duration(*d)*time.Second {
		return timedOut()
	}
	if pod.Status.Phase == corev1.PodRunning {
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
