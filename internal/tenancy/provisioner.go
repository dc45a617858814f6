package tenancy

import (
	"context"
	"log/slog"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlportal/mlportal/internal/fault"
)

// Action says what Apply did to one object.
type Action string

// Actions.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Object is one object Apply manages and what happened to it.
type Object struct {
	Kind            string // e.g. "ResourceQuota"
	Name            string
	Action          Action
	ResourceVersion string // after Apply
}

// Result is what Apply did, object by object, in the order applied.
type Result struct {
	Namespace string
	Objects   []Object
}

// Changed reports whether Apply created or updated any object.
func (r Result) Changed() bool {
	for _, o := range r.Objects {
		if o.Action != Unchanged {
			return true
		}
	}
	return false
}

// Provisioner applies and deletes projects' tenancy on one cluster.
type Provisioner struct {
	cs    kubernetes.Interface
	log   *slog.Logger
	force bool
}

// Option configures a Provisioner.
type Option func(*Provisioner)

// WithForceConflicts makes Apply take ownership of fields another field
// manager changed, instead of reporting a *ConflictError.
func WithForceConflicts() Option { return func(p *Provisioner) { p.force = true } }

// New returns a Provisioner that talks to the cluster through cs.
func New(cs kubernetes.Interface, log *slog.Logger, opts ...Option) *Provisioner {
	p := &Provisioner{cs: cs, log: log}
	for _, o := range opts {
		o(p)
	}
	return p
}

// step is one object: how to read it, check it and apply it.
type step struct {
	kind, resource, name string
	get                  func(context.Context) (metav1.Object, error)
	// check may refuse to apply over old (nil when absent), or prepare for it.
	check func(ctx context.Context, old metav1.Object) error
	apply func(context.Context, metav1.ApplyOptions) (metav1.Object, error)
}

func getter[T metav1.Object](get func(context.Context, string, metav1.GetOptions) (T, error), name string) func(context.Context) (metav1.Object, error) {
	return func(ctx context.Context) (metav1.Object, error) { return get(ctx, name, metav1.GetOptions{}) }
}

func applier[AC any, T metav1.Object](apply func(context.Context, AC, metav1.ApplyOptions) (T, error), ac AC) func(context.Context, metav1.ApplyOptions) (metav1.Object, error) {
	return func(ctx context.Context, o metav1.ApplyOptions) (metav1.Object, error) { return apply(ctx, ac, o) }
}

// Apply makes the project's tenancy match spec, object by object, and stops
// at the first failure. Invalid specs fail with fault.ErrInvalid before any
// call to the cluster.
func (p *Provisioner) Apply(ctx context.Context, spec Spec) (Result, error) {
	q, errs := spec.parse()
	if len(errs) > 0 {
		return Result{}, fault.Invalid("the project's Kubernetes tenancy is invalid", errs...)
	}
	ns := NamespaceName(spec.Team, spec.Project)
	core, rbac := p.cs.CoreV1(), p.cs.RbacV1()
	nps := p.cs.NetworkingV1().NetworkPolicies(ns)
	steps := []step{
		{kind: "Namespace", resource: "namespaces", name: ns,
			get: getter(core.Namespaces().Get, ns),
			check: func(_ context.Context, old metav1.Object) error {
				if old != nil && old.GetDeletionTimestamp() != nil {
					return terminating(ns)
				}
				return owned(old, spec.Team, spec.Project)
			},
			apply: applier(core.Namespaces().Apply, namespaceAC(ns, spec))},
		{kind: "ServiceAccount", resource: "serviceaccounts", name: ServiceAccount,
			get:   getter(core.ServiceAccounts(ns).Get, ServiceAccount),
			apply: applier(core.ServiceAccounts(ns).Apply, serviceAccountAC(ns, spec))},
		{kind: "ResourceQuota", resource: "resourcequotas", name: QuotaName,
			get:   getter(core.ResourceQuotas(ns).Get, QuotaName),
			apply: applier(core.ResourceQuotas(ns).Apply, quotaAC(ns, spec, q))},
		{kind: "LimitRange", resource: "limitranges", name: LimitRangeName,
			get:   getter(core.LimitRanges(ns).Get, LimitRangeName),
			apply: applier(core.LimitRanges(ns).Apply, limitRangeAC(ns, spec, q))},
		{kind: "NetworkPolicy", resource: "networkpolicies", name: NetworkPolicyName,
			get:   getter(nps.Get, NetworkPolicyName),
			apply: applier(nps.Apply, networkPolicyAC(ns, spec))},
		{kind: "RoleBinding", resource: "rolebindings", name: RoleBindingName,
			get:   getter(rbac.RoleBindings(ns).Get, RoleBindingName),
			check: p.replaceRoleRef(ns, spec.role()),
			apply: applier(rbac.RoleBindings(ns).Apply, roleBindingAC(ns, spec))},
	}
	res := Result{Namespace: ns}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: p.force}
	for _, st := range steps {
		o, err := p.applyOne(ctx, ns, st, opts)
		if err != nil {
			return res, err
		}
		res.Objects = append(res.Objects, o)
		if o.Action != Unchanged {
			p.log.InfoContext(ctx, "tenancy applied", "namespace", ns, "kind", o.Kind, "name", o.Name, "action", o.Action)
		}
	}
	return res, nil
}

func (p *Provisioner) applyOne(ctx context.Context, ns string, st step, opts metav1.ApplyOptions) (Object, error) {
	old, err := st.get(ctx)
	if apierrors.IsNotFound(err) {
		old, err = nil, nil
	}
	if err != nil {
		return Object{}, mapError(err, "read", st.kind, st.resource, ns, st.name)
	}
	if st.check != nil {
		if err := st.check(ctx, old); err != nil {
			return Object{}, err
		}
	}
	cur, err := st.apply(ctx, opts)
	if err != nil {
		return Object{}, mapError(err, "apply", st.kind, st.resource, ns, st.name)
	}
	// A replaced object (another UID) counts as updated.
	o := Object{Kind: st.kind, Name: st.name, Action: Updated, ResourceVersion: cur.GetResourceVersion()}
	switch {
	case old == nil:
		o.Action = Created
	case old.GetUID() == cur.GetUID() && old.GetResourceVersion() == cur.GetResourceVersion():
		o.Action = Unchanged
	}
	return o, nil
}

// replaceRoleRef deletes the RoleBinding when it binds another role: a
// RoleBinding's roleRef cannot change, so the apply then creates it anew.
func (p *Provisioner) replaceRoleRef(ns, role string) func(context.Context, metav1.Object) error {
	return func(ctx context.Context, old metav1.Object) error {
		rb, ok := old.(*rbacv1.RoleBinding)
		if !ok || rb.RoleRef.Name == role {
			return nil
		}
		uid, rv := rb.UID, rb.ResourceVersion
		err := p.cs.RbacV1().RoleBindings(ns).Delete(ctx, rb.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return mapError(err, "replace", "RoleBinding", "rolebindings", ns, rb.Name)
		}
		p.log.InfoContext(ctx, "tenancy role binding replaced", "namespace", ns, "from", rb.RoleRef.Name, "to", role)
		return nil
	}
}

// Delete deletes the project's namespace and everything in it. It returns
// once the apiserver accepted the deletion; a namespace already gone or
// terminating is success. It refuses a namespace mlportal did not create for
// this team and project (ErrForeignNamespace).
func (p *Provisioner) Delete(ctx context.Context, team, project string) error {
	ns := NamespaceName(team, project)
	nsClient := p.cs.CoreV1().Namespaces()
	obj, err := nsClient.Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return mapError(err, "read", "Namespace", "namespaces", "", ns)
	}
	if err := owned(obj, team, project); err != nil {
		return err
	}
	if obj.DeletionTimestamp != nil {
		return nil
	}
	err = nsClient.Delete(ctx, ns, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &obj.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return mapError(err, "delete", "Namespace", "namespaces", "", ns)
	}
	p.log.InfoContext(ctx, "tenancy deleted", "namespace", ns, "team", team, "project", project)
	return nil
}

// owned refuses a namespace (nil = absent) that is not mlportal's for team
// and project.
func owned(obj metav1.Object, team, project string) error {
	if obj == nil {
		return nil
	}
	l := obj.GetLabels()
	if l[LabelManagedBy] != ManagedByValue || l[LabelTeam] != team || l[LabelProject] != project {
		return foreignNamespace(obj.GetName(), team, project, l)
	}
	return nil
}
