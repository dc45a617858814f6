package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/executor/kube"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
	"github.com/mlportal/mlportal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// kwokDelay keeps a kwok pod running this long before it completes, with
// kwokJitter set to the same: kwok's stage otherwise adds a jitter of up to
// 5 s that, shorter than the delay, ends the pod within seconds.
const (
	kwokDelay  = "pod-complete.stage.kwok.x-k8s.io/delay"
	kwokJitter = "pod-complete.stage.kwok.x-k8s.io/jitter-delay"
)

// runFor are the annotations that keep a kwok pod running for d.
func runFor(d string) map[string]string { return map[string]string{kwokDelay: d, kwokJitter: d} }

// spotTaint is the taint the fixture's spot node carries (the executor's
// default SpotTaintKey).
const spotTaint = "mlportal.io/spot"

// fixture is the cluster every test of this binary shares: two on-demand
// A100 nodes with 8 GPUs each and one spot node.
type fixture struct {
	c        *testenv.Cluster
	cs       kubernetes.Interface
	onDemand []string
	spot     string
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func cluster(t testing.TB) *fixture {
	t.Helper()
	c := testenv.Kubernetes(t)
	fixOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		f := &fixture{c: c, cs: c.Clientset()}
		f.onDemand, fixErr = c.AddGPUNodes(ctx, 2, testenv.GPUNodeOptions{GPUs: 8, Pool: "on-demand"})
		if fixErr != nil {
			return
		}
		var spot []string
		spot, fixErr = c.AddGPUNodes(ctx, 1, testenv.GPUNodeOptions{GPUs: 8, Pool: "spot",
			Labels: map[string]string{kube.GPUTypeLabel: "nvidia-a100-80gb", kube.GPUMemoryLabel: "81920"}})
		if fixErr != nil {
			return
		}
		f.spot = spot[0]
		patch := fmt.Sprintf(`{"spec":{"taints":[{"key":%q,"value":"present","effect":"NoSchedule"},{"key":%q,"value":"true","effect":"NoSchedule"},{"key":"dedicated","value":"training","effect":"NoSchedule"}]}}`,
			testenv.GPUTaintKey, spotTaint)
		_, fixErr = f.cs.CoreV1().Nodes().Patch(ctx, f.spot, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		fix = f
	})
	if fixErr != nil {
		t.Fatalf("fixture: %v (component logs: %s)", fixErr, c.LogDir())
	}
	return fix
}

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

// executorFor returns an executor over the fixture's cluster whose pods run
// for the given kwok duration (empty: kwok's default of one to six seconds).
func (f *fixture) executor(t *testing.T, d string) *kube.Executor {
	return f.executorWith(t, d, kube.Config{})
}

// executorWith is executor with cfg's settings.
func (f *fixture) executorWith(t *testing.T, d string, cfg kube.Config) *kube.Executor {
	cfg.PollInterval = 100 * time.Millisecond
	if d != "" {
		cfg.PodAnnotations = runFor(d)
	}
	e := kube.New(f.cs, cfg, testLogger(t))
	t.Cleanup(func() { _ = e.Close() })
	return e
}

var seq atomic.Int64

// project provisions a project's namespace with internal/tenancy, as
// mlportal does when a project is created, with a quota of gpus GPUs, and
// returns team and project. The namespace is deleted when the test ends.
func (f *fixture) project(t testing.TB, gpus int) (team, project string) {
	t.Helper()
	return f.projectWith(t, tenancy.Quota{CPU: "64", Memory: "256Gi", GPUs: gpus, Pods: 20, Storage: "1Ti", PVCs: 5})
}

func (f *fixture) projectWith(t testing.TB, quota tenancy.Quota) (team, project string) {
	t.Helper()
	team, project = "vision", fmt.Sprintf("p%d", seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := tenancy.New(f.cs, slog.New(slog.DiscardHandler)).Apply(ctx, tenancy.Spec{
		Team: team, Project: project, CostCenter: "cc-42", Quota: quota,
		Limits: tenancy.Limits{MaxGPUsPerContainer: 8, DefaultCPU: "1", DefaultMemory: "1Gi", MaxCPU: "32", MaxMemory: "128Gi"},
	})
	if err != nil {
		t.Fatalf("provision project: %v", err)
	}
	ns := tenancy.NamespaceName(team, project)
	t.Cleanup(func() {
		err := f.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %v", err)
		}
	})
	// ResourceQuota admission refuses pods until the quota controller has
	// computed the quota's status once.
	poll(t, ctx, "the namespace quota's status", func(ctx context.Context) (bool, error) {
		q, err := f.cs.CoreV1().ResourceQuotas(ns).Get(ctx, tenancy.QuotaName, metav1.GetOptions{})
		return err == nil && q.Status.Hard != nil, nil
	})
	return team, project
}

// spec is a job of one replica with gpus GPUs per replica, one replica per
// node.
func spec(team, project, id string, gpus int, nodes ...string) executor.Spec {
	return executor.Spec{
		JobID: id, Team: team, Project: project, Attempt: 1,
		Image: "registry.example/vision/train:1", Command: []string{"python", "train.py"},
		Env:  map[string]string{"MLFLOW_RUN_ID": "run-" + id},
		GPUs: gpus, GPUType: "nvidia-a100-sxm4-80gb", CPUMillis: 2000, MemoryBytes: 8 << 30,
		Replicas: len(nodes), Nodes: nodes, Timeout: time.Hour,
	}
}

// poll retries cond every 100ms until it holds; the context's deadline is
// only a guard against a test that would otherwise hang.
func poll(t testing.TB, ctx context.Context, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v (component logs: %s)", what, err, fix.c.LogDir())
	}
}

// waitPhase polls Status until the job reaches phase and returns it.
func waitPhase(t *testing.T, ctx context.Context, e *kube.Executor, id string, phase executor.Phase) executor.Status {
	t.Helper()
	var st executor.Status
	poll(t, ctx, fmt.Sprintf("job %s to be %s", id, phase), func(ctx context.Context) (bool, error) {
		var err error
		st, err = e.Status(ctx, id)
		if err != nil {
			return false, err
		}
		if st.Phase.Final() && st.Phase != phase {
			return false, fmt.Errorf("job %s ended %s (%s), want %s", id, st.Phase, st.Message, phase)
		}
		return st.Phase == phase, nil
	})
	return st
}

// pods lists the pods of a job by its label.
func (f *fixture) pods(t *testing.T, ctx context.Context, ns, id string) []corev1.Pod {
	t.Helper()
	list, err := f.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelJob + "=" + id})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// cleanup runs Cleanup and waits until nothing of the job is left, so that
// the next test finds the nodes' GPUs free.
func (f *fixture) cleanup(t *testing.T, ctx context.Context, e *kube.Executor, ns, id string) {
	t.Helper()
	if err := e.Cleanup(ctx, id); err != nil {
		t.Fatalf("Cleanup(%s): %v", id, err)
	}
	sel := metav1.ListOptions{LabelSelector: kube.LabelJob + "=" + id}
	poll(t, ctx, "job "+id+" to be gone", func(ctx context.Context) (bool, error) {
		if _, err := e.Status(ctx, id); !errors.Is(err, fault.ErrNotFound) {
			return false, nil // the watch cache has not seen the deletion yet
		}
		pods, err := f.cs.CoreV1().Pods(ns).List(ctx, sel)
		if err != nil {
			return false, err
		}
		svcs, err := f.cs.CoreV1().Services(ns).List(ctx, sel)
		if err != nil {
			return false, err
		}
		return len(pods.Items)+len(svcs.Items) == 0, nil
	})
}

// env returns a container's environment as a map.
func env(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
