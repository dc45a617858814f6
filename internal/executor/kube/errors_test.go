package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mlportal/mlportal/internal/fault"
)

// TestMapError checks the mapping on the apiserver's own error values; the
// integration tests produce the forbidden, quota and missing-namespace
// answers on a real apiserver.
func TestMapError(t *testing.T) {
	jobs := schema.GroupResource{Resource: "pods"}
	terminating := apierrors.NewForbidden(jobs, "j", errors.New("unable to create new content in namespace t-p because it is being terminated"))
	terminating.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}
	tests := []struct {
		name string
		err  error
		kind error  // nil: not a fault
		msg  string // part of the safe message
	}{
		{name: "forbidden", err: apierrors.NewForbidden(jobs, "j", errors.New("RBAC")), kind: fault.ErrPermissionDenied,
			msg: `mlportal's service account may not create pods "j" in namespace "t-p": grant it get, list, watch, create, patch, delete, deletecollection on pods in the core API group, cluster-wide (see kube.RequiredRules)`},
		{name: "quota", err: apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "p", errors.New("exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1")),
			kind: fault.ErrConflict, msg: "the project's namespace quota refused"},
		{name: "namespace missing", err: apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "t-p"), kind: fault.ErrNotFound,
			msg: `the project's namespace "t-p" does not exist; was the project created on this cluster?`},
		{name: "terminating", err: terminating, kind: fault.ErrConflict, msg: "is being deleted"},
		{name: "invalid", err: apierrors.NewInvalid(schema.GroupKind{Group: "batch", Kind: "Job"}, "j", field.ErrorList{field.Invalid(field.NewPath("spec"), "x", "bad")}),
			kind: fault.ErrInvalid, msg: "Kubernetes refused pods"},
		{name: "credentials", err: apierrors.NewUnauthorized("expired"), kind: fault.ErrUnavailable, msg: "refused mlportal's credentials"},
		{name: "down", err: apierrors.NewServiceUnavailable("etcd"), kind: fault.ErrUnavailable, msg: "did not answer"},
		{name: "network", err: fmt.Errorf("dial tcp: connection refused"), kind: fault.ErrUnavailable, msg: "did not answer"},
		{name: "cancelled", err: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mapError(tt.err, "create", "pods", "t-p", "j")
			if !errors.Is(err, tt.err) {
				t.Errorf("the apiserver's error left the chain: %v", err)
			}
			fe, ok := fault.As(err)
			if tt.kind == nil {
				if ok {
					t.Errorf("got fault %v, want none", fe)
				}
				return
			}
			if !ok || !errors.Is(err, tt.kind) || !strings.Contains(fe.Message, tt.msg) {
				t.Errorf("mapError = %v, want %v containing %q", err, tt.kind, tt.msg)
			}
		})
	}
	if mapError(nil, "get", "jobs", "", "") != nil {
		t.Error("nil must stay nil")
	}
}
