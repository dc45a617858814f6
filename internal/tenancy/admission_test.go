package tenancy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
	"github.com/mlportal/mlportal/internal/testenv"
)

// pod has one container per entry of gpus, asking that many GPUs (none: no
// resources at all, so the LimitRange defaults apply).
func pod(name string, gpus ...int64) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{ServiceAccountName: tenancy.ServiceAccount, RestartPolicy: corev1.RestartPolicyNever},
	}
	for i, n := range gpus {
		c := corev1.Container{Name: fmt.Sprintf("c%d", i), Image: "example.invalid/train:1"}
		if n > 0 {
			q := *resource.NewQuantity(n, resource.DecimalSI)
			c.Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": q}
		}
		p.Spec.Containers = append(p.Spec.Containers, c)
	}
	return p
}

func TestQuotaAndLimitRangeAreEnforced(t *testing.T) {
	cs, p, ctx, s := setup(t, "vision", "admission")
	ns := tenancy.NamespaceName(s.Team, s.Project)
	if _, err := p.Apply(ctx, s); err != nil { // 4 GPUs, at most 2 per container
		t.Fatal(err)
	}
	waitQuotaStatus(t, ctx, cs, ns, "4")
	pods := cs.CoreV1().Pods(ns)

	_, err := pods.Create(ctx, pod("over-container-max", 3), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "maximum nvidia.com/gpu usage per Container is 2") {
		t.Errorf("container asking 3 GPUs over a per-container max of 2: got %v, want 403 from LimitRanger", err)
	}
	_, err = pods.Create(ctx, pod("over-quota", 2, 2, 2), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota: mlportal-quota") {
		t.Errorf("pod asking 6 GPUs over a quota of 4: got %v, want 403 exceeded quota", err)
	}

	// Within both: accepted, and a container that asks nothing gets the
	// defaults, including zero GPUs (not the per-container max).
	got, err := pods.Create(ctx, pod("fits", 2, 0), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("pod within quota and limits refused: %v", err)
	}
	defaults := corev1.ResourceList{"cpu": resource.MustParse("500m"), "memory": resource.MustParse("1Gi"), "nvidia.com/gpu": resource.MustParse("0")}
	want := corev1.ResourceRequirements{Requests: defaults, Limits: defaults}
	if diff := cmp.Diff(want, got.Spec.Containers[1].Resources, quantities); diff != "" {
		t.Errorf("defaulted container resources (-want +got):\n%s", diff)
	}
}

func TestMissingPermissionsAreNamed(t *testing.T) {
	c := testenv.Kubernetes(t)
	admin, _, ctx, s := setup(t, "audio", "perm")
	user := "system:serviceaccount:mlportal-system:tenancy-" + s.Project // a fresh identity per run
	cfg := c.RESTConfig()
	cfg.Impersonate.UserName = user
	restricted, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := tenancy.New(restricted, testLogger(t))

	_, err = p.Apply(ctx, s)
	if fe, ok := fault.As(err); !errors.Is(err, fault.ErrPermissionDenied) || !ok ||
		!strings.Contains(fe.Message, "mlportal's service account may not read namespaces: grant it get, create, patch, delete on namespaces") {
		t.Fatalf("Apply without permissions: %v, want permission denied naming namespaces", err)
	}

	// Every rule but bind: the RoleBinding to edit is an escalation.
	rules := tenancy.RequiredRules("")
	grant(t, ctx, admin, user, rules[:len(rules)-1])
	err = eventually(ctx, func() error { _, err := p.Apply(ctx, s); return err }, func(err error) bool {
		fe, ok := fault.As(err)
		return err == nil || !ok || !strings.Contains(fe.Message, "may not read namespaces")
	})
	if fe, ok := fault.As(err); !errors.Is(err, fault.ErrPermissionDenied) || !ok || !strings.Contains(fe.Message, "may not bind its ClusterRole") {
		t.Fatalf("Apply without bind: %v, want permission denied naming the bind verb", err)
	}

	// RequiredRules is enough.
	grant(t, ctx, admin, user, rules)
	if err := eventually(ctx, func() error { _, err := p.Apply(ctx, s); return err }, func(err error) bool { return err == nil }); err != nil {
		t.Fatalf("Apply with RequiredRules: %v", err)
	}
	if err := p.Delete(ctx, s.Team, s.Project); err != nil {
		t.Fatalf("Delete with RequiredRules: %v", err)
	}
}

// grant gives user rules through a ClusterRole and ClusterRoleBinding named
// after the user, replacing earlier grants.
func grant(t *testing.T, ctx context.Context, cs kubernetes.Interface, user string, rules []rbacv1.PolicyRule) {
	t.Helper()
	name := strings.ReplaceAll(user, ":", "-")
	roles := cs.RbacV1().ClusterRoles()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	if old, err := roles.Get(ctx, name, metav1.GetOptions{}); err == nil {
		role.ResourceVersion = old.ResourceVersion
		_, err = roles.Update(ctx, role, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := roles.Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = roles.Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// eventually calls f until done accepts its error (the RBAC authorizer sees
// new rules after its informers catch up) or 15 s pass, and returns the last
// error.
func eventually(ctx context.Context, f func() error, done func(error) bool) error {
	var last error
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 15*time.Second, true, func(context.Context) (bool, error) {
		last = f()
		return done(last), nil
	})
	return last
}
