package tenancy

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/mlportal/mlportal/internal/fault"
)

// These statuses are shaped as kube-apiserver v1.34 returns them; the
// integration tests provoke the real ones.
func TestMapError(t *testing.T) {
	namespaces := schema.GroupResource{Resource: "namespaces"}
	terminatingErr := &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden,
		Message: `resourcequotas "mlportal-quota" is forbidden: unable to create new content in namespace a-b because it is being terminated`,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause, Message: "namespace a-b is being terminated", Field: "metadata.namespace"}}},
	}}
	cases := []struct {
		name     string
		err      error
		kind     error
		contains string
	}{
		{"forbidden", apierrors.NewForbidden(namespaces, "a-b", errors.New(`User "system:serviceaccount:x:y" cannot patch resource "namespaces"`)),
			fault.ErrPermissionDenied, "mlportal's service account may not create namespaces: grant it get, create, patch, delete on namespaces"},
		{"escalation", apierrors.NewForbidden(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}, "mlportal-team",
			errors.New(`user "x" (groups=[]) is attempting to grant RBAC permissions not currently held`)),
			fault.ErrPermissionDenied, "may not bind its ClusterRole"},
		{"terminating", terminatingErr, fault.ErrConflict, `namespace "a-b" is still being deleted`},
		{"optimistic conflict", apierrors.NewConflict(namespaces, "a-b", errors.New("the object has been modified")),
			fault.ErrConflict, "changed while mlportal applied it"},
		{"unavailable", apierrors.NewServiceUnavailable("etcd down"), fault.ErrUnavailable, "did not answer"},
		{"connection refused", &url.Error{Op: "Patch", URL: "https://127.0.0.1:6443", Err: syscall.ECONNREFUSED},
			fault.ErrUnavailable, "did not answer"},
		{"unauthorized", apierrors.NewUnauthorized("bad token"), fault.ErrUnavailable, "refused mlportal's credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := mapError(c.err, "apply", "Namespace", "namespaces", "", "a-b")
			if !errors.Is(err, c.kind) {
				t.Fatalf("mapError = %v, want kind %v", err, c.kind)
			}
			fe, ok := fault.As(err)
			if !ok || !strings.Contains(fe.Message, c.contains) {
				t.Fatalf("safe message %q, want it to contain %q", fe.Message, c.contains)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("mapError lost the original error from the chain: %v", err)
			}
		})
	}
	t.Run("context", func(t *testing.T) {
		err := mapError(&url.Error{Op: "Get", URL: "https://x", Err: context.Canceled}, "read", "Namespace", "namespaces", "", "a-b")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if _, ok := fault.As(err); ok {
			t.Errorf("a cancelled call must not become a fault: %v", err)
		}
	})
}

func TestMapErrorApplyConflict(t *testing.T) {
	apiErr := apierrors.NewApplyConflict([]metav1.StatusCause{
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl-edit" using v1 at 2026-11-22T10:00:00Z`, Field: ".spec.hard.pods"},
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "ops \"bot\"" with subresource "status"`, Field: ".spec.hard.cpu"},
	}, "Apply failed with 2 conflicts")
	err := mapError(apiErr, "apply", "ResourceQuota", "resourcequotas", "a-b", QuotaName)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("got %T %v, want *ConflictError", err, err)
	}
	want := []FieldOwner{{Manager: "kubectl-edit", Field: ".spec.hard.pods"}, {Manager: `ops "bot"`, Field: ".spec.hard.cpu"}}
	if diff := cmp.Diff(want, ce.Conflicts); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
	fe, _ := fault.As(err)
	if !errors.Is(err, fault.ErrConflict) || !strings.Contains(fe.Message, `ResourceQuota "mlportal-quota" in namespace "a-b"`) ||
		!strings.Contains(fe.Message, `.spec.hard.pods (owned by "kubectl-edit")`) {
		t.Errorf("safe message %q does not name the object, field and manager", fe.Message)
	}
}
