package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/mlportal/mlportal/internal/fault"
)

// RequiredRules are the cluster-wide permissions mlportal's own identity
// needs to run jobs with this executor (jobs live in every project's
// namespace, and the executor watches its pods, the nodes and the quotas).
func RequiredRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "create", "patch", "delete", "deletecollection"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"get", "list", "create", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"resourcequotas", "nodes"}, Verbs: []string{"list", "watch"}},
	}
}

// grant names the verbs RequiredRules gives on resource.
func grant(resource string) string {
	for _, r := range RequiredRules() {
		for _, res := range r.Resources {
			if res == resource {
				group := "the core API group"
				if r.APIGroups[0] != "" {
					group = "API group " + r.APIGroups[0]
				}
				return fmt.Sprintf("%s on %s in %s, cluster-wide", strings.Join(r.Verbs, ", "), resource, group)
			}
		}
	}
	return "access to " + resource
}

// apiError is an apiserver failure with the safe message it maps to; the
// apiserver's error stays in the chain for the log.
type apiError struct {
	op   string
	safe *fault.Error
	err  error
}

func (e *apiError) Error() string {
	return "kube executor: " + e.op + ": " + e.safe.Message + ": " + e.err.Error()
}

func (e *apiError) Unwrap() []error { return []error{e.safe, e.err} }

func where(resource, ns, name string) string {
	what := resource
	if name != "" {
		what += " " + fmt.Sprintf("%q", name)
	}
	if ns != "" {
		what += fmt.Sprintf(" in namespace %q", ns)
	}
	return what
}

func missingNamespace(ns string) *fault.Error {
	return fault.New(fault.ErrNotFound, "the project's namespace %q does not exist; was the project created on this cluster? "+
		"Create the project again (or re-run its setup) so that mlportal provisions the namespace", ns)
}

// mapError turns an apiserver failure of verb on resource into an error with
// a fault kind and a message that says what to fix. nil stays nil.
func mapError(err error, verb, resource, ns, name string) error {
	if err == nil {
		return nil
	}
	what := where(resource, ns, name)
	op := verb + " " + what
	wrap := func(safe *fault.Error) error { return &apiError{op: op, safe: safe, err: err} }
	var status apierrors.APIStatus
	isStatus := errors.As(err, &status)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("kube executor: %s: %w", op, err)
	case apierrors.IsNotFound(err) && status.Status().Details != nil && status.Status().Details.Kind == "namespaces":
		return wrap(missingNamespace(status.Status().Details.Name))
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return wrap(fault.New(fault.ErrConflict, "the project's namespace %q is being deleted; jobs cannot start there", ns))
	case apierrors.IsForbidden(err) && strings.Contains(status.Status().Message, "exceeded quota"):
		return wrap(fault.New(fault.ErrConflict, "the project's namespace quota refused %s: %s; wait for the project's "+
			"running jobs to finish, ask for less, or request more quota", what, status.Status().Message))
	case apierrors.IsForbidden(err):
		return wrap(fault.Denied("mlportal's service account may not %s %s: grant it %s (see kube.RequiredRules)",
			verb, what, grant(resource)))
	case apierrors.IsUnauthorized(err):
		return wrap(fault.New(fault.ErrUnavailable, "the cluster refused mlportal's credentials; renew its token or kubeconfig"))
	case apierrors.IsNotFound(err):
		return wrap(fault.New(fault.ErrNotFound, "%s does not exist (any more)", what))
	case apierrors.IsInvalid(err):
		return wrap(fault.New(fault.ErrInvalid, "Kubernetes refused %s: %s", what, status.Status().Message))
	case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
		return wrap(fault.New(fault.ErrConflict, "%s changed while mlportal worked on it; retry", what))
	case !isStatus || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || apierrors.IsUnexpectedServerError(err):
		return wrap(fault.New(fault.ErrUnavailable, "the cluster's Kubernetes API did not answer (%s); retry later", op))
	default:
		return fmt.Errorf("kube executor: %s: %w", op, err)
	}
}
