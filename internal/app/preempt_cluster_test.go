package app_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/executor/kube"
	"github.com/mlportal/mlportal/internal/testenv"
)

// The story of issue 5 on the real control plane, through mlportal's API
// with the Kubernetes executor: team beta borrows team alpha's idle GPUs
// for a long job; alpha submits a production job within its nominal
// quota; mlportal's scheduler reclaims — beta's pod is deleted after the
// grace period, its job goes back to the queue and says why it waits —
// alpha's job is bound, runs and succeeds; then beta's job starts again
// (attempt 2) with the same MLflow run and the same checkpoint directory
// (the same claim and sub-path) and succeeds. kube-scheduler binds the
// pods to the nodes mlportal chose (binding "kube-scheduler"), so the
// node's GPUs and the claim are checked once more by the real scheduler.
func TestPreemptionAndResumeOnARealCluster(t *testing.T) {
	cluster := testenv.Kubernetes(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed") // the project saga makes a repository
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute) // a failure guard
	defer cancel()
	cs := cluster.Clientset()

	// One node of 8 GPUs of a type no other test (or earlier -count run,
	// whose nodes outlive it) has: the scheduler sees only this node.
	suffix := fmt.Sprintf("%06d", time.Now().UnixNano()%1_000_000)
	gpuType := "preempt-" + suffix
	nodes, err := cluster.AddGPUNodes(ctx, 1, testenv.GPUNodeOptions{GPUs: 8, Pool: "preempt",
		Labels: map[string]string{kube.GPUTypeLabel: gpuType}})
	t.Cleanup(func() {
		for _, n := range nodes {
			if err := cs.CoreV1().Nodes().Delete(context.Background(), n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	node := nodes[0]
	pods := watchJobPods(t, ctx, cs)
	t0 := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(t0).Seconds(), what) }

	// Every job pod runs for runFor before kwok completes it: long enough
	// for alpha's job to preempt beta's first attempt.
	const runFor = "10s"
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.Kubernetes.Kubeconfig = cluster.Kubeconfig()
		cfg.Jobs.Executor = "kubernetes"
		cfg.Jobs.GracePeriod = config.Duration{Duration: 2 * time.Second}
		cfg.Jobs.Kubernetes.Binding = string(kube.BindByKubeScheduler)
		cfg.Jobs.Kubernetes.CheckpointClaim = "checkpoints"
		cfg.Jobs.Kubernetes.PodAnnotations = map[string]string{
			"pod-complete.stage.kwok.x-k8s.io/delay":        runFor,
			"pod-complete.stage.kwok.x-k8s.io/jitter-delay": runFor, // kwok's default jitter (5 s) would end them sooner
		}
	})
	api := caller{t: t, url: srv.URL, token: "root"}

	// 1. Two teams, nominal 4 each of the node's 8, borrowing allowed; a
	// project each, whose namespace holds the checkpoint claim.
	quota := []map[string]any{{"gpuType": gpuType, "nominal": 4, "borrowingLimit": 4}}
	api.call("POST", "/api/v1/teams", map[string]any{"name": "alpha", "gpuQuota": quota}, 201)
	api.call("POST", "/api/v1/teams", map[string]any{"name": "beta", "gpuQuota": quota}, 201)
	project := func(team string, gpus int) string {
		name := "p" + suffix
		p := api.call("POST", "/api/v1/projects", map[string]any{"team": team, "name": name, "template": "training",
			"quota": map[string]any{"gpus": gpus}}, 201)
		ns := team + "-" + name
		t.Cleanup(func() {
			if err := cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("cleanup: %v", err)
			}
		})
		if p = api.settle(p["id"].(string)); p["status"] != "succeeded" || p["namespace"] != ns {
			t.Fatalf("project %s: %v", ns, p)
		}
		step("project " + ns + " created")
		return name
	}
	alphaProject, betaProject := project("alpha", 4), project("beta", 8)
	checkpointClaims(t, ctx, cs, "checkpoints", "alpha-"+alphaProject, "beta-"+betaProject)
	step("checkpoint claims bound")

	var submitted []string
	submit := func(team, project string, gpus int, priority string) string {
		j := api.call("POST", "/api/v1/jobs", map[string]any{"team": team, "project": project, "gpus": gpus, "gpuType": gpuType,
			"priority": priority, "cpu": "1", "memory": "1Gi", "image": "busybox",
			"command": []string{"sh", "-c", `python train.py --resume-from "$MLPORTAL_CHECKPOINT_DIR"`}}, 201)
		submitted = append(submitted, j["id"].(string))
		return j["id"].(string)
	}
	// wait polls job id until until(job), failing on a final state other
	// than success or at the deadline. Each poll also reads every job
	// submitted so far and keeps the distinct states, reasons, attempts and
	// preemption counts each shows (history).
	type seen struct {
		state, reason string
		attempt, pre  int
	}
	history := map[string][]seen{}
	get := func(id string) map[string]any { return api.call("GET", "/api/v1/jobs/"+id, nil, 200) }
	wait := func(what, id string, until func(j map[string]any) bool) map[string]any {
		t.Helper()
		for {
			var j map[string]any
			for _, s := range submitted {
				x := get(s)
				now := seen{x["state"].(string), x["reason"].(string), int(x["attempt"].(float64)), int(x["preemptions"].(float64))}
				if h := history[s]; len(h) == 0 || h[len(h)-1] != now {
					history[s] = append(h, now)
				}
				if s == id {
					j = x
				}
			}
			if until(j) {
				return j
			}
			if s := j["state"]; s == "failed" || s == "cancelled" || s == "timed-out" || ctx.Err() != nil {
				t.Fatalf("waiting for %s: job %s: %v\nthe jobs went through: %+v", what, id, j, history)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	state := func(s string) func(map[string]any) bool {
		return func(j map[string]any) bool { return j["state"] == s }
	}

	// 2. Beta borrows: 8 GPUs, twice its nominal; admitted, bound to the
	// node, running.
	beta := submit("beta", betaProject, 8, "batch")
	b := wait("beta's job to run", beta, state("running"))
	if b["attempt"] != 1.0 || b["preemptions"] != 0.0 || !slices.Equal(strs(b["nodes"]), []string{node}) {
		t.Fatalf("beta's job running: %v", b)
	}
	first := pods.waitBound(t, ctx, beta, 1, node)
	step("beta's job running")

	// 3. Alpha's production job, within alpha's nominal quota, reclaims.
	alpha := submit("alpha", alphaProject, 4, "production")
	b = wait("beta's job to be preempted", beta, func(j map[string]any) bool {
		return j["preemptions"] == 1.0 && j["state"] == "queued"
	})
	if b["attempt"] != 1.0 || b["nodes"] != nil {
		t.Errorf("beta's job preempted: %v", b)
	}
	runStatus := func() any {
		run := api.call("GET", "/api/2.0/mlflow/runs/get?run_id="+b["runId"].(string), nil, 200)["run"].(map[string]any)
		return run["info"].(map[string]any)["status"]
	}
	if st := runStatus(); st != "RUNNING" { // it continues with the next attempt
		t.Errorf("beta's run after the preemption: %v, want RUNNING", st)
	}
	step("beta's job preempted")
	a := wait("alpha's job to succeed", alpha, state("succeeded"))
	step("alpha's job succeeded")
	if a["attempt"] != 1.0 || a["preemptions"] != 0.0 || !slices.Equal(strs(a["nodes"]), []string{node}) {
		t.Errorf("alpha's job: %v", a)
	}
	alphaPod := pods.waitBound(t, ctx, alpha, 1, node)
	// Beta's pod was gone, after its grace period, before alpha's was
	// created: the node was never over-committed.
	if gone, created := pods.deletedAt(first.Name), pods.addedAt(alphaPod.Name); gone < 0 || created < gone {
		t.Errorf("beta's first pod deleted at event %d, alpha's pod created at event %d: want the deletion first\n%s", gone, created, pods.dump())
	}
	if g := first.Spec.TerminationGracePeriodSeconds; g == nil || *g != 2 {
		t.Errorf("beta's pod's grace period: %v, want 2s", g)
	}

	// 4. Beta's job starts again, attempt 2, and resumes: the same run, the
	// same checkpoint directory on the same claim.
	b = wait("beta's job to succeed", beta, state("succeeded"))
	step("beta's job succeeded")
	second := pods.waitBound(t, ctx, beta, 2, node)
	// ... created once alpha's pod had completed.
	if done, created := pods.index(alphaPod.Name, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded }),
		pods.addedAt(second.Name); done < 0 || created < done {
		t.Errorf("alpha's pod completed at event %d, beta's second pod created at event %d: want alpha's first\n%s", done, created, pods.dump())
	}
	for _, k := range []string{"MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", kube.EnvCheckpointDir, kube.EnvJobID} {
		if v1, v2 := env(first, k), env(second, k); v1 == "" || v1 != v2 {
			t.Errorf("%s: attempt 1 %q, attempt 2 %q; want the same, set", k, v1, v2)
		}
	}
	if env(second, "MLFLOW_RUN_ID") != b["runId"] {
		t.Errorf("pod's MLFLOW_RUN_ID %q, job's run %v", env(second, "MLFLOW_RUN_ID"), b["runId"])
	}
	if st := runStatus(); st != "FINISHED" {
		t.Errorf("beta's run at the end: %v, want FINISHED", st)
	}
	if env(first, kube.EnvAttempt) != "1" || env(second, kube.EnvAttempt) != "2" {
		t.Errorf("MLPORTAL_ATTEMPT: %q then %q", env(first, kube.EnvAttempt), env(second, kube.EnvAttempt))
	}
	if c1, c2 := checkpointMount(first), checkpointMount(second); c1 == "" || c1 != c2 {
		t.Errorf("checkpoint volume: attempt 1 %q, attempt 2 %q; want the same claim and sub-path", c1, c2)
	}

	// 5. What the API tells about it.
	if b["attempt"] != 2.0 || b["preemptions"] != 1.0 || b["failures"] != 0.0 || b["reason"] != "completed" {
		t.Errorf("beta's job at the end: %v", b)
	}
	// Its GPU time is accounted (both attempts add to it).
	if b["gpuHours"].(float64) <= 0 {
		t.Errorf("beta's GPU-hours: %v", b["gpuHours"])
	}
	t.Logf("the jobs went through: %+v", history)
	// While they waited, their reasons (what `mlportal jobs explain`
	// prints) said why: alpha's that it makes room by stopping beta's job;
	// beta's that alpha takes its GPUs back, then that it was preempted,
	// will resume, and why it waits.
	has := func(id string, want seen) bool {
		return slices.ContainsFunc(history[id], func(s seen) bool {
			return s.state == want.state && s.attempt == want.attempt && s.pre == want.pre && strings.HasPrefix(s.reason, want.reason)
		})
	}
	if !has(alpha, seen{"queued", "making room: stopping " + beta + " (borrowed or preemptible work)", 0, 0}) {
		t.Errorf("alpha's job never said it waits for beta's to stop: %+v", history[alpha])
	}
	for _, s := range history[alpha] { // and said nothing else once it did
		if s.state == "queued" && !strings.HasPrefix(s.reason, "making room: stopping "+beta) && s.reason != "waiting for the scheduler's next decision" {
			t.Errorf("alpha's job, queued: %q", s.reason)
		}
	}
	if !has(beta, seen{"stopping", "team alpha takes back " + gpuType + " GPUs lent to team beta: its job " + alpha + " needs 4", 1, 0}) {
		t.Errorf("beta's job never said whom it stops for: %+v", history[beta])
	}
	if !has(beta, seen{"queued", "preempted (1× so far); queued to resume from its last checkpoint; team beta uses 0/4 nominal " + gpuType + " GPUs", 1, 1}) {
		t.Errorf("beta's job never said, requeued, that it resumes and why it waits: %+v", history[beta])
	}
	// The audit trail has each submission (the controller's transitions
	// are not audited: the job's fields above tell them).
	for _, id := range []string{alpha, beta} {
		ev := api.call("GET", "/api/v1/audit?target=jobs/"+id, nil, 200)["items"].([]any)
		if len(ev) != 1 || ev[0].(map[string]any)["outcome"] != "success" {
			t.Errorf("audit events of %s: %v", id, ev)
		}
	}
}

// strs is a JSON array of strings.
func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func env(p *corev1.Pod, name string) string {
	for _, e := range p.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// checkpointMount names the claim and sub-path mounted at
// MLPORTAL_CHECKPOINT_DIR.
func checkpointMount(p *corev1.Pod) string {
	dir := env(p, kube.EnvCheckpointDir)
	for _, m := range p.Spec.Containers[0].VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.Name == m.Name && v.PersistentVolumeClaim != nil {
				return v.PersistentVolumeClaim.ClaimName + "/" + m.SubPath
			}
		}
	}
	return ""
}

// checkpointClaims makes the claim the executor mounts (kube.Config's
// CheckpointPVC) in each namespace, bound to a hostPath volume of its own
// (kwok nodes write nothing), and waits until they are bound:
// kube-scheduler binds no pod whose claim is unbound.
func checkpointClaims(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string, namespaces ...string) {
	t.Helper()
	for _, ns := range namespaces {
		checkpointClaim(t, ctx, cs, ns, name)
	}
	for _, ns := range namespaces {
		for i := 0; ; i++ {
			got, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Phase == corev1.ClaimBound {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("claim %s/%s not bound: %+v", ns, name, got.Status)
			}
			// A change to the claim makes the volume controller look at it
			// now rather than at its next periodic sync (15 s).
			if i%10 == 0 {
				touch := fmt.Sprintf(`{"metadata":{"annotations":{"mlportal.io/test-sync":"%d"}}}`, i)
				if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Patch(ctx, name, types.MergePatchType, []byte(touch), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// checkpointClaim creates the claim ns/name and a volume pre-bound to it.
func checkpointClaim(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	size := resource.MustParse("1Gi")
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              "",
			ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: name},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/checkpoints/" + ns}},
		},
	}
	empty := ""
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			StorageClassName: &empty,
			VolumeName:       pv.Name,
		},
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cs.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// podEvents records, in the order of one watch (the apiserver's order),
// every event of the pods labelled mlportal.io/job: pods are deleted when
// an attempt ends, so the test reads what they were from here.
type podEvents struct {
	mu     sync.Mutex
	events []podEvent
}

type podEvent struct {
	kind string // added, updated, deleted
	pod  *corev1.Pod
}

func watchJobPods(t *testing.T, ctx context.Context, cs kubernetes.Interface) *podEvents {
	t.Helper()
	rec := &podEvents{}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = kube.LabelJob }))
	inf := f.Core().V1().Pods().Informer()
	add := func(kind string, obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if p, ok := obj.(*corev1.Pod); ok {
			rec.mu.Lock()
			rec.events = append(rec.events, podEvent{kind, p.DeepCopy()})
			rec.mu.Unlock()
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { add("added", obj) },
		UpdateFunc: func(_, obj any) { add("updated", obj) },
		DeleteFunc: func(obj any) { add("deleted", obj) },
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); f.Shutdown() })
	f.Start(stop)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("the pod watch did not sync")
	}
	return rec
}

// waitBound returns the attempt's pod as last seen bound to a node, waiting
// for it; the test fails if it was bound elsewhere.
func (r *podEvents) waitBound(t *testing.T, ctx context.Context, job string, attempt int, node string) *corev1.Pod {
	t.Helper()
	for {
		r.mu.Lock()
		var bound *corev1.Pod
		for _, e := range r.events {
			p := e.pod
			if p.Labels[kube.LabelJob] == job && p.Labels[kube.LabelAttempt] == fmt.Sprint(attempt) && p.Spec.NodeName != "" {
				bound = p
			}
		}
		r.mu.Unlock()
		if bound != nil {
			if bound.Spec.NodeName != node {
				t.Fatalf("job %s attempt %d: pod %s bound to %s, want %s", job, attempt, bound.Name, bound.Spec.NodeName, node)
			}
			return bound
		}
		if ctx.Err() != nil {
			t.Fatalf("job %s attempt %d: no pod bound\n%s", job, attempt, r.dump())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addedAt and deletedAt are the index of the pod's first event of that
// kind (-1: none).
func (r *podEvents) addedAt(name string) int   { return r.first(name, "added", nil) }
func (r *podEvents) deletedAt(name string) int { return r.first(name, "deleted", nil) }

// index is the index of the first event that shows the pod as ok says.
func (r *podEvents) index(name string, ok func(*corev1.Pod) bool) int { return r.first(name, "", ok) }

func (r *podEvents) first(name, kind string, ok func(*corev1.Pod) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.IndexFunc(r.events, func(e podEvent) bool {
		return e.pod.Name == name && (kind == "" || e.kind == kind) && (ok == nil || ok(e.pod))
	})
}

func (r *podEvents) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for i, e := range r.events {
		fmt.Fprintf(&b, "%3d %-7s %s/%s node=%q phase=%s deleting=%v\n", i, e.kind, e.pod.Namespace, e.pod.Name,
			e.pod.Spec.NodeName, e.pod.Status.Phase, e.pod.DeletionTimestamp != nil)
	}
	return b.String()
}
