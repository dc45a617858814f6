package tenancy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/fault"
)

// ErrForeignNamespace is matched (errors.Is) by the error of Apply or Delete
// when the project's namespace exists but mlportal did not create it for that
// team and project. A saga's rollback can treat it as nothing to undo.
var ErrForeignNamespace = errors.New("namespace not mlportal's for this project")

// FieldOwner is one field of a server-side apply conflict and the field
// manager that owns it.
type FieldOwner struct {
	Manager string // e.g. "kubectl-edit"
	Field   string // e.g. ".spec.hard.pods"
}

// ConflictError is Apply's error when another field manager changed a field
// mlportal applies. It matches fault.ErrConflict; its safe message names the
// object, fields and managers.
type ConflictError struct {
	Kind, Namespace, Name string
	Conflicts             []FieldOwner
	safe                  *fault.Error
	err                   error // the apiserver's
}

func (e *ConflictError) Error() string { return "tenancy: " + e.safe.Message + ": " + e.err.Error() }

// Unwrap exposes the safe *fault.Error and the apiserver's error.
func (e *ConflictError) Unwrap() []error { return []error{e.safe, e.err} }

// managerRE matches the manager in a FieldManagerConflict cause's message,
// e.g. `conflict with "kubectl-edit" using v1`.
var managerRE = regexp.MustCompile(`^conflict with ("(?:[^"\\]|\\.)*")`)

func newConflictError(err error, kind, ns, name string, causes []metav1.StatusCause) *ConflictError {
	e := &ConflictError{Kind: kind, Namespace: ns, Name: name, err: err}
	var parts []string
	for _, c := range causes {
		if c.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		owner := FieldOwner{Manager: "another field manager", Field: c.Field}
		if m := managerRE.FindStringSubmatch(c.Message); m != nil {
			if s, err := strconv.Unquote(m[1]); err == nil {
				owner.Manager = s
			}
		}
		e.Conflicts = append(e.Conflicts, owner)
		parts = append(parts, fmt.Sprintf("%s (owned by %q)", owner.Field, owner.Manager))
	}
	e.safe = fault.New(fault.ErrConflict,
		"%s was changed outside mlportal and mlportal did not overwrite it: field %s. "+
			"Undo that change, or have an operator re-apply with force conflicts to take the fields back",
		describe(kind, ns, name), strings.Join(parts, ", field "))
	return e
}

// apiError is an apiserver failure with the safe message it maps to.
type apiError struct {
	op   string
	safe *fault.Error
	err  error
}

func (e *apiError) Error() string {
	return "tenancy: " + e.op + ": " + e.safe.Message + ": " + e.err.Error()
}
func (e *apiError) Unwrap() []error { return []error{e.safe, e.err} }

func describe(kind, ns, name string) string {
	if ns == "" {
		return fmt.Sprintf("%s %q", kind, name)
	}
	return fmt.Sprintf("%s %q in namespace %q", kind, name, ns)
}

func foreignNamespace(ns, team, project string, labels map[string]string) error {
	owner := "it was not created by mlportal"
	if labels[LabelManagedBy] == ManagedByValue {
		owner = fmt.Sprintf("it belongs to team %q, project %q", labels[LabelTeam], labels[LabelProject])
	}
	safe := fault.New(fault.ErrAlreadyExists, "namespace %q already exists and is not the namespace of team %q, project %q (%s); "+
		"choose another project name or ask a cluster admin to remove it", ns, team, project, owner)
	return &apiError{op: "check namespace " + ns, safe: safe, err: ErrForeignNamespace}
}

func terminating(ns string) *fault.Error {
	return fault.New(fault.ErrConflict, "namespace %q is still being deleted; retry once it is gone", ns)
}

// verbs is what the forbidden message says mlportal tried to do.
var verbs = map[string]string{"apply": "create", "read": "read", "replace": "replace", "delete": "delete"}

// mapError turns an apiserver failure of op on one object into an error with
// a fault kind and a message that says what to fix; the original stays in
// the chain for the log.
func mapError(err error, op, kind, resource, ns, name string) error {
	what := describe(kind, ns, name)
	wrap := func(safe *fault.Error) error { return &apiError{op: op + " " + what, safe: safe, err: err} }
	var status apierrors.APIStatus
	isStatus := errors.As(err, &status)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("tenancy: %s %s: %w", op, what, err)
	case apierrors.IsConflict(err) && apierrors.HasStatusCause(err, metav1.CauseTypeFieldManagerConflict):
		return newConflictError(err, kind, ns, name, status.Status().Details.Causes)
	case apierrors.IsConflict(err):
		return wrap(fault.New(fault.ErrConflict, "%s changed while mlportal applied it; retry", what))
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		if ns == "" { // the object is the namespace
			return wrap(terminating(name))
		}
		return wrap(terminating(ns))
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "attempting to grant RBAC permissions not currently held"):
		return wrap(fault.Denied("mlportal's service account may not bind its ClusterRole in %s: grant it the bind verb "+
			"on that ClusterRole (see tenancy.RequiredRules), or every permission the role grants", what))
	case apierrors.IsForbidden(err):
		return wrap(fault.Denied("mlportal's service account may not %s %s: grant it %s (see tenancy.RequiredRules)",
			verbs[op], resource, grant(resource)))
	case apierrors.IsUnauthorized(err):
		return wrap(fault.New(fault.ErrUnavailable, "the cluster refused mlportal's credentials; renew its token or kubeconfig"))
	case apierrors.IsInvalid(err):
		return wrap(fault.New(fault.ErrInvalid, "Kubernetes refused %s: %s", what, status.Status().Message))
	case !isStatus || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || apierrors.IsUnexpectedServerError(err):
		return wrap(fault.New(fault.ErrUnavailable, "the cluster's Kubernetes API did not answer; retry later"))
	default:
		return fmt.Errorf("tenancy: %s %s: %w", op, what, err)
	}
}

// grant names the verbs RequiredRules gives on resource.
func grant(resource string) string {
	for _, r := range RequiredRules("") {
		for _, res := range r.Resources {
			if res == resource {
				return strings.Join(r.Verbs, ", ") + " on " + resource + " cluster-wide"
			}
		}
	}
	return "access to " + resource
}
