package tenancy_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/mlportal/mlportal/internal/tenancy"
	"github.com/mlportal/mlportal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// spec is a complete spec for team/project; tests change what they exercise.
func spec(team, project string) tenancy.Spec {
	return tenancy.Spec{
		Team: team, Project: project, CostCenter: "cc-1234",
		Quota:   tenancy.Quota{CPU: "8", Memory: "32Gi", GPUs: 4, Pods: 20, Storage: "500Gi", PVCs: 10},
		Limits:  tenancy.Limits{MaxGPUsPerContainer: 2, DefaultCPU: "500m", DefaultMemory: "1Gi", MaxCPU: "4", MaxMemory: "16Gi"},
		APIPeer: tenancy.Peer{NamespaceLabels: map[string]string{corev1.LabelMetadataName: "mlportal"}, Port: 8080},
	}
}

var runSeq atomic.Int64

// setup returns an admin clientset, a provisioner over it, a context and a
// spec for team and a project name unique in this test binary (go test
// -count reuses the cluster, and deleted namespaces linger while
// terminating). The project's namespace is deleted when the test ends.
func setup(t *testing.T, team, project string) (kubernetes.Interface, *tenancy.Provisioner, context.Context, tenancy.Spec) {
	t.Helper()
	cs := testenv.Kubernetes(t).Clientset()
	t.Parallel()
	s := spec(team, fmt.Sprintf("%s-%d", project, runSeq.Add(1)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		err := cs.CoreV1().Namespaces().Delete(context.Background(), tenancy.NamespaceName(s.Team, s.Project), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return cs, tenancy.New(cs, testLogger(t)), ctx, s
}

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

var quantities = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

func actions(r tenancy.Result) map[string]tenancy.Action {
	m := map[string]tenancy.Action{}
	for _, o := range r.Objects {
		m[o.Kind+"/"+o.Name] = o.Action
	}
	return m
}

func allActions(ns string, a tenancy.Action) map[string]tenancy.Action {
	return map[string]tenancy.Action{
		"Namespace/" + ns: a, "ServiceAccount/mlportal-runner": a, "ResourceQuota/mlportal-quota": a,
		"LimitRange/mlportal-limits": a, "NetworkPolicy/mlportal-isolation": a, "RoleBinding/mlportal-team": a,
	}
}

func mustGet[T any](t *testing.T, ctx context.Context, get func(context.Context, string, metav1.GetOptions) (T, error), name string) T {
	t.Helper()
	obj, err := get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// resourceVersions reads every managed object's resourceVersion.
func resourceVersions(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	return map[string]string{
		"Namespace":      mustGet(t, ctx, cs.CoreV1().Namespaces().Get, ns).ResourceVersion,
		"ServiceAccount": mustGet(t, ctx, cs.CoreV1().ServiceAccounts(ns).Get, tenancy.ServiceAccount).ResourceVersion,
		"ResourceQuota":  mustGet(t, ctx, cs.CoreV1().ResourceQuotas(ns).Get, tenancy.QuotaName).ResourceVersion,
		"LimitRange":     mustGet(t, ctx, cs.CoreV1().LimitRanges(ns).Get, tenancy.LimitRangeName).ResourceVersion,
		"NetworkPolicy":  mustGet(t, ctx, cs.NetworkingV1().NetworkPolicies(ns).Get, tenancy.NetworkPolicyName).ResourceVersion,
		"RoleBinding":    mustGet(t, ctx, cs.RbacV1().RoleBindings(ns).Get, tenancy.RoleBindingName).ResourceVersion,
	}
}

// waitQuotaStatus waits until the quota controller has computed the quota's
// status: until then ResourceQuota admission refuses pods, and the status
// update changes the quota's resourceVersion.
func waitQuotaStatus(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string, gpus string) {
	t.Helper()
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, tenancy.QuotaName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		hard, ok := q.Status.Hard["requests.nvidia.com/gpu"]
		return ok && hard.Cmp(resource.MustParse(gpus)) == 0, nil
	})
	if err != nil {
		t.Fatalf("quota status never showed %s GPUs: %v", gpus, err)
	}
}
