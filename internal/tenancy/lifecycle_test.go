package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
)

func TestApplyReportsAnotherManagersChange(t *testing.T) {
	cs, p, ctx, s := setup(t, "speech", "asr")
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	// An operator raises the pod limit with kubectl edit (an Update).
	quotas := cs.CoreV1().ResourceQuotas(tenancy.NamespaceName(s.Team, s.Project))
	q := mustGet(t, ctx, quotas.Get, tenancy.QuotaName)
	q.Spec.Hard["pods"] = resource.MustParse("99")
	if _, err := quotas.Update(ctx, q, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	_, err := p.Apply(ctx, s)
	var ce *tenancy.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("Apply over another manager's field: %v, want a *tenancy.ConflictError", err)
	}
	want := []tenancy.FieldOwner{{Manager: "kubectl-edit", Field: ".spec.hard.pods"}}
	if diff := cmp.Diff(want, ce.Conflicts); diff != "" || ce.Kind != "ResourceQuota" || ce.Name != tenancy.QuotaName {
		t.Errorf("conflict on %s %s (-want +got):\n%s", ce.Kind, ce.Name, diff)
	}
	fe, _ := fault.As(err)
	t.Logf("client sees: %s", fe.Message)
	if !strings.Contains(fe.Message, `.spec.hard.pods (owned by "kubectl-edit")`) {
		t.Errorf("safe message %q does not name the field and its manager", fe.Message)
	}
	if q := mustGet(t, ctx, quotas.Get, tenancy.QuotaName); q.Spec.Hard.Pods().Value() != 99 {
		t.Errorf("Apply without force changed the pod limit to %d", q.Spec.Hard.Pods().Value())
	}

	forced := tenancy.New(cs, testLogger(t), tenancy.WithForceConflicts())
	res, err := forced.Apply(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res)["ResourceQuota/mlportal-quota"]; got != tenancy.Updated {
		t.Errorf("forced Apply: quota %s, want updated", got)
	}
	if q := mustGet(t, ctx, quotas.Get, tenancy.QuotaName); q.Spec.Hard.Pods().Value() != 20 {
		t.Errorf("forced Apply left the pod limit at %d, want 20", q.Spec.Hard.Pods().Value())
	}
}

func TestDeleteRemovesTheNamespace(t *testing.T) {
	cs, p, ctx, s := setup(t, "robotics", "grasp")
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, s.Team, s.Project); err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, tenancy.NamespaceName(s.Team, s.Project), metav1.GetOptions{})
	if err == nil && ns.DeletionTimestamp == nil {
		t.Fatalf("namespace %s neither gone nor terminating after Delete (phase %s)", ns.Name, ns.Status.Phase)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, s.Team, s.Project); err != nil {
		t.Errorf("second Delete: %v, want nil", err)
	}
	if err := p.Delete(ctx, "robotics", "never-created"); err != nil {
		t.Errorf("Delete of a project never applied: %v, want nil", err)
	}
}

func TestForeignNamespaceIsLeftAlone(t *testing.T) {
	cs, p, ctx, s := setup(t, "infra", "shared")
	ns := tenancy.NamespaceName(s.Team, s.Project)
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Apply(ctx, s)
	if !errors.Is(err, tenancy.ErrForeignNamespace) || !errors.Is(err, fault.ErrAlreadyExists) {
		t.Errorf("Apply into a namespace mlportal did not create: %v, want ErrForeignNamespace", err)
	}
	if err := p.Delete(ctx, s.Team, s.Project); !errors.Is(err, tenancy.ErrForeignNamespace) {
		t.Errorf("Delete of a namespace mlportal did not create: %v, want ErrForeignNamespace", err)
	}
	got := mustGet(t, ctx, cs.CoreV1().Namespaces().Get, ns)
	if got.DeletionTimestamp != nil || got.Labels["mlportal.io/team"] != "" {
		t.Errorf("foreign namespace was touched: labels %v, deleting %v", got.Labels, got.DeletionTimestamp)
	}
}

func TestApplyIntoTerminatingNamespace(t *testing.T) {
	cs, p, ctx, s := setup(t, "robotics", "held")
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	// A finalizer of another controller holds the namespace in Terminating.
	ns := tenancy.NamespaceName(s.Team, s.Project)
	namespaces := cs.CoreV1().Namespaces()
	hold := []byte(`{"metadata":{"finalizers":["example.com/hold"]}}`)
	if _, err := namespaces.Patch(ctx, ns, types.MergePatchType, hold, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		release := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := namespaces.Patch(context.Background(), ns, types.MergePatchType, release, metav1.PatchOptions{}); err != nil {
			t.Errorf("release finalizer: %v", err)
		}
	})
	if err := p.Delete(ctx, s.Team, s.Project); err != nil {
		t.Fatal(err)
	}
	_, err := p.Apply(ctx, s)
	if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrConflict) || !strings.Contains(fe.Message, "still being deleted") {
		t.Errorf("Apply into a terminating namespace: %v, want a conflict saying it is being deleted", err)
	}
	if err := p.Delete(ctx, s.Team, s.Project); err != nil {
		t.Errorf("Delete of a terminating namespace: %v, want nil", err)
	}
}
