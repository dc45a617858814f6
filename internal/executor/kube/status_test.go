package kube

import (
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/executor"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// pb builds a replica's pod.
type pb struct{ p corev1.Pod }

func pod(i int, phase corev1.PodPhase) *pb {
	start := metav1.NewTime(t0.Add(time.Duration(i) * time.Second))
	return &pb{corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "mlp-j-a1-" + strconv.Itoa(i),
			Labels:      map[string]string{LabelJob: "j", LabelAttempt: "1", LabelReplica: strconv.Itoa(i)},
			Annotations: map[string]string{AnnotationNode: "node-" + strconv.Itoa(i), AnnotationReplicas: "1"}},
		Spec: corev1.PodSpec{NodeName: "node-" + strconv.Itoa(i), ActiveDeadlineSeconds: ptr(int64(600)), Containers: []corev1.Container{{
			Name: containerName, Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Gi")}},
		}}},
		Status: corev1.PodStatus{Phase: phase, StartTime: &start, ContainerStatuses: []corev1.ContainerStatus{{Name: containerName, Image: "img:1"}}},
	}}
}

func (b *pb) unbound(msg string) *pb {
	b.p.Spec.NodeName, b.p.Status.StartTime = "", nil
	b.p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: msg}}
	return b
}

func (b *pb) waiting(reason, msg string) *pb {
	b.p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	return b
}

func (b *pb) terminated(code int32, reason, msg string) *pb {
	b.p.Status.ContainerStatuses[0].State.Terminated = &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, Message: msg, FinishedAt: metav1.NewTime(t0.Add(time.Minute)),
	}
	return b
}

func (b *pb) failed(reason, msg string) *pb {
	b.p.Status.Reason, b.p.Status.Message = reason, msg
	return b
}

func (b *pb) deleting() *pb {
	now := metav1.NewTime(t0)
	b.p.DeletionTimestamp = &now
	return b
}

func TestDerive(t *testing.T) {
	done := t0.Add(time.Minute)
	now := t0.Add(2 * time.Minute)
	preempt := &stopRecord{attempt: 1, reason: "preempt", at: t0.Add(time.Hour).Format(time.RFC3339)}
	cancel := &stopRecord{attempt: 1, reason: "cancel", at: t0.Add(time.Hour).Format(time.RFC3339)}
	tests := []struct {
		name     string
		pods     []*pb // nil: that replica's pod is missing
		stop     *stopRecord
		now      time.Time // [now]
		phase    executor.Phase
		message  string // a part of it
		exitCode int
		finished time.Time
	}{
		{name: "unschedulable", pods: []*pb{pod(0, corev1.PodPending).unbound("0/3 nodes are available: Insufficient nvidia.com/gpu.")},
			phase: executor.PhasePending, message: "waiting for node node-0: 0/3 nodes are available: Insufficient nvidia.com/gpu."},
		{name: "starting", pods: []*pb{pod(0, corev1.PodPending).waiting("ContainerCreating", "")},
			phase: executor.PhasePending, message: "starting on node node-0"},
		{name: "first pull failure is retried", pods: []*pb{pod(0, corev1.PodPending).waiting("ErrImagePull", "timeout")},
			phase: executor.PhasePending, message: `pulling image "img:1" failed, retrying: timeout`},
		{name: "image pull back-off fails", pods: []*pb{pod(0, corev1.PodPending).waiting("ImagePullBackOff", "not found")},
			phase: executor.PhaseFailed, message: `image pull failed for "img:1" (ImagePullBackOff): not found; check the image name`},
		{name: "running", pods: []*pb{pod(0, corev1.PodRunning)},
			phase: executor.PhaseRunning, message: "running"},
		{name: "gang waits for its last replica",
			pods:  []*pb{pod(0, corev1.PodRunning), pod(1, corev1.PodPending).unbound("no room")},
			phase: executor.PhasePending, message: "replica 1: waiting for node node-1: no room"},
		{name: "gang replica missing", pods: []*pb{pod(0, corev1.PodRunning), nil},
			phase: executor.PhasePending, message: "replica 1: not created yet"},
		{name: "succeeded", pods: []*pb{pod(0, corev1.PodSucceeded).terminated(0, "Completed", "")},
			phase: executor.PhaseSucceeded, message: "completed", finished: done},
		{name: "out of memory", pods: []*pb{pod(0, corev1.PodFailed).terminated(137, "OOMKilled", "")},
			phase: executor.PhaseFailed, message: "out of memory (OOMKilled, exit code 137): the job used more than its memory limit of 8Gi", exitCode: 137, finished: done},
		{name: "exit code with termination message", pods: []*pb{pod(0, corev1.PodFailed).terminated(3, "Error", "ValueError: bad lr\n")},
			phase: executor.PhaseFailed, message: "exit code 3: ValueError: bad lr", exitCode: 3, finished: done},
		{name: "evicted", pods: []*pb{pod(0, corev1.PodFailed).failed("Evicted", "The node was low on resource: memory.")},
			phase: executor.PhaseFailed, message: "the pod failed (Evicted): The node was low on resource: memory."},
		{name: "timed out by the kubelet", pods: []*pb{pod(0, corev1.PodFailed).failed("DeadlineExceeded", "Pod was active on the node longer than the specified deadline")},
			phase: executor.PhaseTimedOut, message: "stopped: it ran longer than its timeout of 10m0s"},
		{name: "past its deadline, still running", pods: []*pb{pod(0, corev1.PodRunning)}, now: t0.Add(11 * time.Minute),
			phase: executor.PhaseTimedOut, message: "stopped: it ran longer than its timeout of 10m0s", finished: t0.Add(11 * time.Minute)},
		{name: "one replica failed, the other runs",
			pods:  []*pb{pod(0, corev1.PodRunning), pod(1, corev1.PodFailed).terminated(2, "Error", "")},
			phase: executor.PhaseFailed, message: "replica 1: exit code 2", exitCode: 2, finished: done},
		{name: "stopping", pods: []*pb{pod(0, corev1.PodRunning).deleting()}, stop: preempt,
			phase: executor.PhaseRunning, message: "stopping (preempt)"},
		{name: "preempted", pods: []*pb{nil}, stop: preempt,
			phase: executor.PhasePreempted, message: "preempted", finished: t0.Add(time.Hour)},
		{name: "cancelled before its pod was seen", pods: []*pb{nil}, stop: cancel,
			phase: executor.PhaseCancelled, message: "cancelled", finished: t0.Add(time.Hour)},
		{name: "success beats a late stop", stop: cancel,
			pods:  []*pb{pod(0, corev1.PodSucceeded).terminated(0, "Completed", "")},
			phase: executor.PhaseSucceeded, message: "completed", finished: done},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run{ns: "t-p", attempt: 1, replicas: len(tt.pods), stop: tt.stop}
			for _, p := range tt.pods {
				if p == nil {
					r.pods = append(r.pods, nil)
				} else {
					r.pods = append(r.pods, &p.p)
				}
			}
			at := tt.now
			if at.IsZero() {
				at = now
			}
			st := derive("j", r, at)
			if st.Phase != tt.phase || !strings.Contains(st.Message, tt.message) || st.ExitCode != tt.exitCode {
				t.Errorf("derive = %s %q exit %d, want %s containing %q exit %d", st.Phase, st.Message, st.ExitCode, tt.phase, tt.message, tt.exitCode)
			}
			if !tt.finished.IsZero() && !st.FinishedAt.Equal(tt.finished) {
				t.Errorf("finished %v, want %v", st.FinishedAt, tt.finished)
			}
			if !st.Phase.Final() && !st.FinishedAt.IsZero() {
				t.Errorf("unfinished %s job has FinishedAt %v", st.Phase, st.FinishedAt)
			}
			if len(st.Replicas) != r.replicas {
				t.Errorf("%d replicas reported, want %d", len(st.Replicas), r.replicas)
			}
			if p := tt.pods[0]; p != nil && p.p.Status.StartTime != nil && !st.StartedAt.Equal(p.p.Status.StartTime.Time) {
				t.Errorf("started %v, want the first pod's start", st.StartedAt)
			}
		})
	}
}
