package kube_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/executor/kube"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/tenancy"
)

// The tests of this file run on the real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) with kwok GPU nodes. They share
// the nodes' GPUs, so they run one after another and clean up after
// themselves.

func TestStartPinsToTheChosenNodeAndSucceeds(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 16)
	ns := tenancy.NamespaceName(team, project)
	e := f.executor(t, "")

	// The scheduler chose the second node; kube-scheduler alone might pick
	// either.
	node := f.onDemand[1]
	s := spec(team, project, "job-pinned", 2, node)
	if err := e.Start(ctx, s); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := e.Start(ctx, s); err != nil {
		t.Fatalf("Start again (must be a no-op): %v", err)
	}
	st := waitPhase(t, ctx, e, s.JobID, executor.PhaseSucceeded)
	if len(st.Replicas) != 1 || st.Replicas[0].Node != node || st.Replicas[0].Phase != executor.PhaseSucceeded {
		t.Errorf("replicas = %+v, want one Succeeded on %s", st.Replicas, node)
	}
	if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Errorf("started %v, finished %v", st.StartedAt, st.FinishedAt)
	}

	pods := f.pods(t, ctx, ns, s.JobID)
	if len(pods) != 1 {
		t.Fatalf("%d pods after two Starts, want 1", len(pods))
	}
	pod := pods[0]
	if pod.Spec.NodeName != node {
		t.Errorf("pod bound to %q, want the scheduler's node %q", pod.Spec.NodeName, node)
	}
	if len(pod.OwnerReferences) != 0 || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("pod owners %v restartPolicy %s, want none and Never", pod.OwnerReferences, pod.Spec.RestartPolicy)
	}
	wantLabels := map[string]string{kube.LabelTeam: team, kube.LabelProject: project, kube.LabelJob: s.JobID, kube.LabelCostCenter: "cc-42"}
	for k, v := range wantLabels {
		if pod.Labels[k] != v {
			t.Errorf("pod label %s = %q, want %q", k, pod.Labels[k], v)
		}
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d == nil || *d != 3600 {
		t.Errorf("activeDeadlineSeconds = %v, want 3600", d)
	}
	c := pod.Spec.Containers[0]
	for _, r := range []corev1.ResourceName{tenancy.GPUResource, corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || req.Cmp(lim) != 0 {
			t.Errorf("%s: request %s, limit %s; want equal and set", r, req.String(), lim.String())
		}
	}
	if g := c.Resources.Limits[tenancy.GPUResource]; g.Value() != 2 {
		t.Errorf("GPU limit %s, want 2", g.String())
	}
	vars := env(c)
	for k, v := range map[string]string{"MLPORTAL_CHECKPOINT_DIR": "/mlportal/checkpoint", "MLFLOW_RUN_ID": "run-job-pinned", "RANK": "0", "WORLD_SIZE": "1"} {
		if vars[k] != v {
			t.Errorf("env %s = %q, want %q", k, vars[k], v)
		}
	}
	if !slices.ContainsFunc(pod.Spec.Tolerations, func(t corev1.Toleration) bool { return t.Key == "nvidia.com/gpu" }) {
		t.Errorf("tolerations %v lack the GPU taint", pod.Spec.Tolerations)
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || *g != 30 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 30", g)
	}

	f.cleanup(t, ctx, e, ns, s.JobID)
	if _, err := e.Status(ctx, s.JobID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Status after Cleanup: %v, want not found", err)
	}
	if err := e.Cleanup(ctx, s.JobID); err != nil {
		t.Errorf("Cleanup again: %v", err)
	}
}

func TestPreemptibleJobRunsOnTheSpotNode(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 16)
	ns := tenancy.NamespaceName(team, project)
	e := f.executor(t, "")

	s := spec(team, project, "job-spot", 8, f.spot)
	s.Preemptible = true
	s.Tolerations = []scheduler.Toleration{{Key: "dedicated", Value: "training"}}
	if err := e.Start(ctx, s); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitPhase(t, ctx, e, s.JobID, executor.PhaseSucceeded)
	if st.Replicas[0].Node != f.spot {
		t.Errorf("ran on %s, want the spot node %s", st.Replicas[0].Node, f.spot)
	}
	f.cleanup(t, ctx, e, ns, s.JobID)
}

func TestGangReplicasAreBoundToTheirNodes(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 16)
	ns := tenancy.NamespaceName(team, project)
	e := f.executor(t, "")

	// Two replicas on the second node, one on the first: what an Indexed
	// Job with anti-affinity could not express.
	x, y := f.onDemand[0], f.onDemand[1]
	s := spec(team, project, "job-gang", 4, y, x, y)
	if err := e.Start(ctx, s); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitPhase(t, ctx, e, s.JobID, executor.PhaseSucceeded)
	var got []string
	for _, r := range st.Replicas {
		got = append(got, r.Node)
	}
	if diff := cmp.Diff(s.Nodes, got); diff != "" {
		t.Errorf("replica nodes (-scheduler +bound):\n%s", diff)
	}

	pods := f.pods(t, ctx, ns, s.JobID)
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	svc, err := f.cs.CoreV1().Services(ns).Get(ctx, "mlp-job-gang-a1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("rendezvous service: %v", err)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("service clusterIP %q, want headless", svc.Spec.ClusterIP)
	}
	for _, p := range pods {
		rank := p.Labels[kube.LabelReplica]
		vars := env(p.Spec.Containers[0])
		want := map[string]string{
			"RANK": rank, "WORLD_SIZE": "3", "MASTER_PORT": "29500",
			"MASTER_ADDR": "mlp-job-gang-a1-0.mlp-job-gang-a1." + ns + ".svc",
		}
		for k, v := range want {
			if vars[k] != v {
				t.Errorf("pod %s: env %s = %q, want %q", p.Name, k, vars[k], v)
			}
		}
		if p.Spec.Hostname != "mlp-job-gang-a1-"+rank || p.Spec.Subdomain != svc.Name {
			t.Errorf("pod %s: hostname %q subdomain %q", p.Name, p.Spec.Hostname, p.Spec.Subdomain)
		}
		if want := s.Nodes[atoi(t, rank)]; p.Spec.NodeName != want {
			t.Errorf("replica %s bound to %s, want %s", rank, p.Spec.NodeName, want)
		}
	}
	f.cleanup(t, ctx, e, ns, s.JobID)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStopPreemptDeletesThePodsAndSaysPreempted(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 16)
	ns := tenancy.NamespaceName(team, project)
	e := f.executor(t, "1h")

	s := spec(team, project, "job-preempted", 4, f.onDemand[0], f.onDemand[1])
	if err := e.Start(ctx, s); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitPhase(t, ctx, e, s.JobID, executor.PhaseRunning)
	if st.StartedAt.IsZero() {
		t.Errorf("running without a start time: %+v", st)
	}
	// kwok nodes have no kubelet to serve logs: the answer says so.
	var logs bytes.Buffer
	err := e.Logs(ctx, s.JobID, false, &logs)
	if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrUnavailable) || !contains(fe.Message, "could not be read", "kubelet may be unreachable") {
		t.Errorf("Logs from kwok nodes: %v, want unavailable naming the kubelet", err)
	}
	if err := e.Stop(ctx, s.JobID, executor.StopPreempt, 2*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// Stop returns once the pods are gone.
	if pods := f.pods(t, ctx, ns, s.JobID); len(pods) != 0 {
		t.Errorf("after Stop %d pods left: %s", len(pods), dump(pods))
	}
	st, err = e.Status(ctx, s.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != executor.PhasePreempted || st.FinishedAt.IsZero() {
		t.Errorf("Status after Stop = %s (%s) finished %v, want Preempted", st.Phase, st.Message, st.FinishedAt)
	}
	if err := e.Stop(ctx, s.JobID, executor.StopCancel, time.Second); err != nil {
		t.Errorf("Stop again: %v", err)
	}
	// Nothing comes back: no controller recreates the pods.
	if pods := f.pods(t, ctx, ns, s.JobID); len(pods) != 0 {
		t.Errorf("after a second Stop %d pods: %s", len(pods), dump(pods))
	}
	if st, _ := e.Status(ctx, s.JobID); st.Phase != executor.PhasePreempted {
		t.Errorf("Status after a second Stop = %s, want Preempted still", st.Phase)
	}

	// The requeued job runs again as attempt 2 on the same nodes, and
	// Status follows the new attempt.
	s.Attempt = 2
	if err := e.Start(ctx, s); err != nil {
		t.Fatalf("Start attempt 2: %v", err)
	}
	waitPhase(t, ctx, e, s.JobID, executor.PhaseRunning)
	if err := e.Stop(ctx, s.JobID, executor.StopCancel, time.Second); err != nil {
		t.Fatalf("Stop attempt 2: %v", err)
	}
	if st, _ := e.Status(ctx, s.JobID); st.Phase != executor.PhaseCancelled {
		t.Errorf("Status after cancel = %s (%s), want Cancelled", st.Phase, st.Message)
	}
	f.cleanup(t, ctx, e, ns, s.JobID)
}

func TestPendingJobSaysWhyAndCanBeCancelled(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 16)
	ns := tenancy.NamespaceName(team, project)
	// Bound by kube-scheduler, a pod whose node is gone says why it waits.
	e := f.executorWith(t, "", kube.Config{Binding: kube.BindByKubeScheduler})

	s := spec(team, project, "job-nowhere", 1, "no-such-node")
	if err := e.Start(ctx, s); err != nil {
		t.Fatalf("Start: %v", err)
	}
	var st executor.Status
	poll(t, ctx, "kube-scheduler's verdict", func(ctx context.Context) (bool, error) {
		var err error
		st, err = e.Status(ctx, s.JobID)
		return err == nil && strings.Contains(st.Message, "nodes are available"), err
	})
	if st.Phase != executor.PhasePending || !contains(st.Message, "waiting for node no-such-node", "NodeAffinity") {
		t.Errorf("Status = %s %q, want Pending with kube-scheduler's reason", st.Phase, st.Message)
	}
	if err := e.Stop(ctx, s.JobID, executor.StopCancel, time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if st, _ := e.Status(ctx, s.JobID); st.Phase != executor.PhaseCancelled {
		t.Errorf("Status after Stop = %s (%s), want Cancelled", st.Phase, st.Message)
	}
	f.cleanup(t, ctx, e, ns, s.JobID)
}

func TestTimeoutAndOutOfMemory(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 16)
	ns := tenancy.NamespaceName(team, project)
	e := f.executor(t, "1h")

	slow := spec(team, project, "job-slow", 1, f.onDemand[0])
	slow.Timeout = 2 * time.Second
	if err := e.Start(ctx, slow); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitPhase(t, ctx, e, slow.JobID, executor.PhaseTimedOut)
	if !strings.Contains(st.Message, "timeout of 2s") {
		t.Errorf("TimedOut message %q", st.Message)
	}

	oom := spec(team, project, "job-oom", 1, f.onDemand[1])
	if err := e.Start(ctx, oom); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waitPhase(t, ctx, e, oom.JobID, executor.PhaseRunning)
	// What the kubelet reports when the kernel kills the container.
	pod := f.pods(t, ctx, ns, oom.JobID)[0]
	now := metav1.Now()
	pod.Status.Phase = corev1.PodFailed
	pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 137, Reason: "OOMKilled", StartedAt: now, FinishedAt: now,
	}}
	if _, err := f.cs.CoreV1().Pods(ns).UpdateStatus(ctx, &pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	st = waitPhase(t, ctx, e, oom.JobID, executor.PhaseFailed)
	if st.ExitCode != 137 || !contains(st.Message, "out of memory", "8Gi") {
		t.Errorf("Failed status = exit %d %q, want 137 and out of memory", st.ExitCode, st.Message)
	}
	f.cleanup(t, ctx, e, ns, slow.JobID)
	f.cleanup(t, ctx, e, ns, oom.JobID)
}

func TestQuotaRefusalsAreClear(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 8)
	ns := tenancy.NamespaceName(team, project)
	e := f.executor(t, "1h")

	// Never fits: 2 × 8 GPUs over a quota of 8.
	err := e.Start(ctx, spec(team, project, "job-huge", 8, f.onDemand[0], f.onDemand[1]))
	var qe *kube.QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("Start over quota: %v, want a *QuotaError matching fault.ErrInvalid", err)
	}
	if fe, _ := fault.As(err); !contains(fe.Message, "requests.nvidia.com/gpu", "needs 16", "allows 8", "request more quota") {
		t.Errorf("message %q does not say the quota and what is used", fe.Message)
	}

	// Fits once others end: 6 in use, 4 more asked.
	running := spec(team, project, "job-six", 6, f.onDemand[0])
	if err := e.Start(ctx, running); err != nil {
		t.Fatalf("Start: %v", err)
	}
	poll(t, ctx, "the quota to count the running job", func(ctx context.Context) (bool, error) {
		q, err := f.cs.CoreV1().ResourceQuotas(ns).Get(ctx, tenancy.QuotaName, metav1.GetOptions{})
		used := q.Status.Used["requests.nvidia.com/gpu"]
		return err == nil && used.Value() == 6, err
	})
	err = e.Start(ctx, spec(team, project, "job-four", 4, f.onDemand[1]))
	if !errors.As(err, &qe) || !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("Start beyond what is left: %v, want a *QuotaError matching fault.ErrConflict", err)
	}
	if fe, _ := fault.As(err); !contains(fe.Message, "needs 4", "allows 8", "6 is in use") {
		t.Errorf("message %q does not say what is used", fe.Message)
	}
	if pods := f.pods(t, ctx, ns, "job-four"); len(pods) != 0 {
		t.Errorf("a refused job left %d pods", len(pods))
	}

	// A quota the pre-check leaves to the apiserver (scoped): the pod is
	// refused by admission, and Status says so.
	_, err = f.cs.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "scoped"},
		Spec: corev1.ResourceQuotaSpec{
			Hard:   corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")},
			Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotBestEffort},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the scoped quota's status", func(ctx context.Context) (bool, error) {
		q, err := f.cs.CoreV1().ResourceQuotas(ns).Get(ctx, "scoped", metav1.GetOptions{})
		used := q.Status.Used[corev1.ResourcePods]
		return err == nil && used.Value() == 1, err
	})
	// The apiserver's quota admission reads quotas from its own informer,
	// which can trail the status poll above on a loaded machine: wait
	// until a dry-run pod is refused, so Start meets the same admission.
	poll(t, ctx, "the quota admission to see the scoped quota", func(ctx context.Context) (bool, error) {
		probe := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: ns},
			Spec: corev1.PodSpec{
				AutomountServiceAccountToken: new(bool),
				Containers:                   []corev1.Container{{Name: "probe", Image: "probe"}},
			},
		}
		_, err := f.cs.CoreV1().Pods(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return false, nil
		}
		return strings.Contains(err.Error(), "exceeded quota"), nil
	})
	// Pods are created directly, so the admission's refusal is Start's
	// answer.
	refused := spec(team, project, "job-refused", 1, f.onDemand[1])
	err = e.Start(ctx, refused)
	if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrConflict) || !contains(fe.Message, "exceeded quota", "request more quota") {
		t.Errorf("Start refused by a scoped quota: %v, want a conflict quoting the apiserver", err)
	}
	f.cleanup(t, ctx, e, ns, refused.JobID)
	f.cleanup(t, ctx, e, ns, running.JobID)
}

func TestStartFaults(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := f.executor(t, "")

	err := e.Start(ctx, spec("vision", "never-created", "job-lost", 1, f.onDemand[0]))
	if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrNotFound) || !strings.Contains(fe.Message, "was the project created on this cluster?") {
		t.Errorf("Start in a missing namespace: %v", err)
	}

	err = e.Start(ctx, executor.Spec{JobID: "Bad ID!", Replicas: 2, Nodes: []string{"a"}})
	if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrInvalid) || len(fe.Fields) < 4 {
		t.Errorf("Start of a bad spec: %v, want invalid naming jobID, team, project, image, nodes", err)
	}

	// mlportal's identity without the permissions RequiredRules lists.
	team, project := f.project(t, 16)
	cfg := f.c.RESTConfig()
	cfg.Impersonate.UserName = "system:serviceaccount:mlportal:mlportal"
	weak, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = kube.New(weak, kube.Config{}, testLogger(t)).Start(ctx, spec(team, project, "job-denied", 1, f.onDemand[0]))
	if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrPermissionDenied) ||
		!contains(fe.Message, "mlportal's service account may not get namespaces", "grant it get on namespaces", "kube.RequiredRules") {
		t.Errorf("Start without permissions: %v", err)
	}
	if _, err := kube.New(weak, kube.Config{}, testLogger(t)).Inventory(ctx); !errors.Is(err, fault.ErrPermissionDenied) {
		t.Errorf("Inventory without permissions: %v", err)
	}
}

func TestInventoryListsTheGPUNodes(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nodes, err := f.executor(t, "").Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]scheduler.Node{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	for _, name := range f.onDemand {
		n := byName[name]
		want := scheduler.Node{Name: name, Pool: scheduler.PoolOnDemand, GPUType: "nvidia-a100-sxm4-80gb", GPUs: 8,
			CPUMillis: 64000, MemoryBytes: 512 << 30}
		n.Labels = nil
		if diff := cmp.Diff(want, n); diff != "" {
			t.Errorf("node %s (-want +got):\n%s", name, diff)
		}
	}
	spot := byName[f.spot]
	spot.Labels = nil
	want := scheduler.Node{Name: f.spot, Pool: scheduler.PoolSpot, GPUType: "nvidia-a100-80gb", GPUs: 8, GPUMemoryBytes: 80 << 30,
		CPUMillis: 64000, MemoryBytes: 512 << 30, Taints: []scheduler.Taint{{Key: "dedicated", Value: "training"}}}
	if diff := cmp.Diff(want, spot); diff != "" {
		t.Errorf("spot node (-want +got):\n%s", diff)
	}
}

// TestRequiredRulesSuffice runs a job's whole life as an identity that holds
// exactly kube.RequiredRules, so the list stays complete.
func TestRequiredRulesSuffice(t *testing.T) {
	f := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	team, project := f.project(t, 16)
	ns := tenancy.NamespaceName(team, project)

	const name = "mlportal-executor-test"
	_, err := f.cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: kube.RequiredRules(),
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "executor", Namespace: "mlportal"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = f.cs.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	cfg := f.c.RESTConfig()
	cfg.Impersonate.UserName = "system:serviceaccount:mlportal:executor"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := kube.New(cs, kube.Config{PollInterval: 100 * time.Millisecond, PodAnnotations: runFor("1h")}, testLogger(t))

	s := spec(team, project, "job-least-privilege", 2, f.onDemand[0], f.onDemand[1])
	// RBAC answers from an informer cache: the new binding takes a moment.
	poll(t, ctx, "the binding to take effect", func(ctx context.Context) (bool, error) {
		err := e.Start(ctx, s)
		if errors.Is(err, fault.ErrPermissionDenied) {
			return false, nil
		}
		return err == nil, err
	})
	waitPhase(t, ctx, e, s.JobID, executor.PhaseRunning)
	if err := e.Logs(ctx, s.JobID, false, &bytes.Buffer{}); errors.Is(err, fault.ErrPermissionDenied) {
		t.Errorf("Logs: %v", err)
	}
	if err := e.Stop(ctx, s.JobID, executor.StopCancel, time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitPhase(t, ctx, e, s.JobID, executor.PhaseCancelled)
	if _, err := e.Inventory(ctx); err != nil {
		t.Errorf("Inventory: %v", err)
	}
	// A fresh executor (mlportal restarted) finds no pod of the stopped job:
	// not found, and the controller, which asked for the stop, records it.
	again := kube.New(cs, kube.Config{}, testLogger(t))
	defer again.Close()
	if _, err := again.Status(ctx, s.JobID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Status of a stopped job from a restarted executor: %v, want not found", err)
	}
	f.cleanup(t, ctx, again, ns, s.JobID)
}
