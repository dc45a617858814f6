package kube

import (
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/executor"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// jb builds a replica's Job for derive's tables.
type jb struct{ j batchv1.Job }

func job(i int) *jb {
	return &jb{batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "mlp-j-a1-" + strconv.Itoa(i),
			Labels:      map[string]string{LabelJob: "j", LabelAttempt: "1", LabelReplica: strconv.Itoa(i)},
			Annotations: map[string]string{AnnotationNode: "node-" + strconv.Itoa(i), AnnotationReplicas: "1"},
		},
		Spec: batchv1.JobSpec{ActiveDeadlineSeconds: ptr(int64(600))},
	}}
}

func (b *jb) cond(t batchv1.JobConditionType, reason, msg string, at time.Time) *jb {
	b.j.Status.Conditions = append(b.j.Status.Conditions, batchv1.JobCondition{
		Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(at),
	})
	return b
}

func (b *jb) stopped(reason string) *jb {
	b.j.Annotations[AnnotationStopReason] = reason
	b.j.Annotations[AnnotationStoppedAt] = t0.Add(time.Hour).Format(time.RFC3339)
	return b
}

// pb builds a replica's pod.
type pb struct{ p corev1.Pod }

func pod(i int, phase corev1.PodPhase) *pb {
	start := metav1.NewTime(t0.Add(time.Duration(i) * time.Second))
	return &pb{corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "mlp-j-a1-" + strconv.Itoa(i) + "-xyz", Labels: map[string]string{LabelReplica: strconv.Itoa(i)}},
		Spec: corev1.PodSpec{NodeName: "node-" + strconv.Itoa(i), Containers: []corev1.Container{{
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
	done := t0.Add(2 * time.Minute)
	tests := []struct {
		name     string
		jobs     []*jb
		pods     []*pb
		replicas int
		failures map[string]string
		phase    executor.Phase
		message  string // a part of it
		exitCode int
		finished time.Time
	}{
		{name: "no pod yet", jobs: []*jb{job(0)},
			phase: executor.PhasePending, message: "waiting for Kubernetes to create the pod"},
		{name: "pod refused by quota", jobs: []*jb{job(0)}, failures: map[string]string{"mlp-j-a1-0": `pods "x" is forbidden: exceeded quota`},
			phase: executor.PhasePending, message: "Kubernetes could not create the pod: pods \"x\" is forbidden: exceeded quota"},
		{name: "unschedulable", jobs: []*jb{job(0)}, pods: []*pb{pod(0, corev1.PodPending).unbound("0/3 nodes are available: Insufficient nvidia.com/gpu.")},
			phase: executor.PhasePending, message: "waiting for node node-0: 0/3 nodes are available: Insufficient nvidia.com/gpu."},
		{name: "starting", jobs: []*jb{job(0)}, pods: []*pb{pod(0, corev1.PodPending).waiting("ContainerCreating", "")},
			phase: executor.PhasePending, message: "starting on node node-0"},
		{name: "first pull failure is retried", jobs: []*jb{job(0)}, pods: []*pb{pod(0, corev1.PodPending).waiting("ErrImagePull", "timeout")},
			phase: executor.PhasePending, message: `pulling image "img:1" failed, retrying: timeout`},
		{name: "image pull back-off fails", jobs: []*jb{job(0)}, pods: []*pb{pod(0, corev1.PodPending).waiting("ImagePullBackOff", "not found")},
			phase: executor.PhaseFailed, message: `image pull failed for "img:1" (ImagePullBackOff): not found; check the image name`},
		{name: "running", jobs: []*jb{job(0)}, pods: []*pb{pod(0, corev1.PodRunning)},
			phase: executor.PhaseRunning, message: "running"},
		{name: "gang waits for its last replica", jobs: []*jb{job(0), job(1)},
			pods:  []*pb{pod(0, corev1.PodRunning), pod(1, corev1.PodPending).unbound("no room")},
			phase: executor.PhasePending, message: "replica 1: waiting for node node-1: no room"},
		{name: "gang replica missing", jobs: []*jb{job(0)}, replicas: 2, pods: []*pb{pod(0, corev1.PodRunning)},
			phase: executor.PhasePending, message: "replica 1: not created yet"},
		{name: "succeeded", jobs: []*jb{job(0).cond(batchv1.JobComplete, "", "", done)}, pods: []*pb{pod(0, corev1.PodSucceeded).terminated(0, "Completed", "")},
			phase: executor.PhaseSucceeded, message: "completed", finished: done},
		{name: "out of memory", jobs: []*jb{job(0).cond(batchv1.JobFailed, "BackoffLimitExceeded", "", done)},
			pods:  []*pb{pod(0, corev1.PodFailed).terminated(137, "OOMKilled", "")},
			phase: executor.PhaseFailed, message: "out of memory (OOMKilled, exit code 137): the job used more than its memory limit of 8Gi", exitCode: 137, finished: done},
		{name: "exit code with termination message", jobs: []*jb{job(0).cond(batchv1.JobFailed, "BackoffLimitExceeded", "", done)},
			pods:  []*pb{pod(0, corev1.PodFailed).terminated(3, "Error", "ValueError: bad lr\n")},
			phase: executor.PhaseFailed, message: "exit code 3: ValueError: bad lr", exitCode: 3, finished: done},
		{name: "pod failed before the Job noticed", jobs: []*jb{job(0)}, pods: []*pb{pod(0, corev1.PodFailed).terminated(1, "Error", "")},
			phase: executor.PhaseFailed, message: "exit code 1", exitCode: 1, finished: t0.Add(time.Minute)},
		{name: "evicted", jobs: []*jb{job(0).cond(batchv1.JobFailed, "BackoffLimitExceeded", "", done)},
			pods:  []*pb{pod(0, corev1.PodFailed).failed("Evicted", "The node was low on resource: memory.")},
			phase: executor.PhaseFailed, message: "the pod failed (Evicted): The node was low on resource: memory."},
		{name: "job failed without a pod", jobs: []*jb{job(0).cond(batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit", done)},
			phase: executor.PhaseFailed, message: "the Kubernetes Job failed (BackoffLimitExceeded): Job has reached the specified backoff limit"},
		{name: "timed out", jobs: []*jb{job(0).cond(batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded, "", done)},
			phase: executor.PhaseTimedOut, message: "stopped: it ran longer than its timeout of 10m0s", finished: done},
		{name: "one replica failed, the other runs", jobs: []*jb{job(0), job(1).cond(batchv1.JobFailed, "BackoffLimitExceeded", "", done)},
			pods:  []*pb{pod(0, corev1.PodRunning), pod(1, corev1.PodFailed).terminated(2, "Error", "")},
			phase: executor.PhaseFailed, message: "replica 1: exit code 2", exitCode: 2, finished: done},
		{name: "stopping", jobs: []*jb{job(0).stopped("preempt")}, pods: []*pb{pod(0, corev1.PodRunning).deleting()},
			phase: executor.PhaseRunning, message: "stopping (preempt)"},
		{name: "preempted", jobs: []*jb{job(0).stopped("preempt").cond(batchv1.JobFailed, "BackoffLimitExceeded", "", done)},
			phase: executor.PhasePreempted, message: "preempted", finished: t0.Add(time.Hour)},
		{name: "cancelled before its pod existed", jobs: []*jb{job(0).stopped("cancel")},
			phase: executor.PhaseCancelled, message: "cancelled", finished: t0.Add(time.Hour)},
		{name: "success beats a late stop", jobs: []*jb{job(0).stopped("cancel").cond(batchv1.JobComplete, "", "", done)},
			pods:  []*pb{pod(0, corev1.PodSucceeded).terminated(0, "Completed", "")},
			phase: executor.PhaseSucceeded, message: "completed", finished: done},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run{ns: "t-p", attempt: 1, replicas: max(tt.replicas, len(tt.jobs))}
			for _, j := range tt.jobs {
				r.jobs = append(r.jobs, j.j)
			}
			for _, p := range tt.pods {
				r.pods = append(r.pods, p.p)
			}
			st := derive("j", r, tt.failures)
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
			if len(tt.pods) > 0 && tt.pods[0].p.Status.StartTime != nil && !st.StartedAt.Equal(tt.pods[0].p.Status.StartTime.Time) {
				t.Errorf("started %v, want the first pod's start", st.StartedAt)
			}
		})
	}
}
