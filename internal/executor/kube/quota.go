package kube

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
)

// QuotaViolation is one resource of one ResourceQuota a job does not fit.
type QuotaViolation struct {
	Quota     string              // the ResourceQuota's name
	Resource  corev1.ResourceName // e.g. requests.nvidia.com/gpu
	Hard      resource.Quantity
	Used      resource.Quantity
	Requested resource.Quantity // by the whole job (all replicas)
}

// Never reports whether the job could not fit even in an idle namespace.
func (v QuotaViolation) Never() bool { return v.Requested.Cmp(v.Hard) > 0 }

// QuotaError is Start's error when the project's namespace quota cannot hold
// the job. It matches fault.ErrInvalid when the job exceeds a quota on its
// own (it never fits), otherwise fault.ErrConflict (it fits once running
// jobs end or the quota is raised).
type QuotaError struct {
	Namespace  string
	Violations []QuotaViolation
	safe       *fault.Error
}

func (e *QuotaError) Error() string { return "kube executor: " + e.safe.Message }

// Unwrap exposes the safe *fault.Error.
func (e *QuotaError) Unwrap() error { return e.safe }

func newQuotaError(ns string, vs []QuotaViolation) *QuotaError {
	never := slices.ContainsFunc(vs, QuotaViolation.Never)
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%s: the job needs %s, ResourceQuota %q allows %s and %s is in use",
			v.Resource, v.Requested.String(), v.Quota, v.Hard.String(), v.Used.String())
	}
	e := &QuotaError{Namespace: ns, Violations: vs}
	if never {
		e.safe = fault.New(fault.ErrInvalid, "the job does not fit the quota of the project's namespace %q even when nothing else runs (%s); "+
			"ask for fewer GPUs, CPUs, memory or replicas, or request more quota for the project", ns, strings.Join(parts, "; "))
	} else {
		e.safe = fault.New(fault.ErrConflict, "the project's namespace %q has no quota left for the job (%s); "+
			"wait for the project's running jobs to finish, ask for less, or request more quota", ns, strings.Join(parts, "; "))
	}
	return e
}

// demand is what the whole job adds to each quota resource it sets.
func demand(s executor.Spec) corev1.ResourceList {
	r := int64(s.Replicas)
	d := corev1.ResourceList{}
	set := func(q resource.Quantity, names ...corev1.ResourceName) {
		for _, n := range names {
			d[n] = q
		}
	}
	if s.GPUs > 0 {
		set(*resource.NewQuantity(int64(s.GPUs)*r, resource.DecimalSI), corev1.DefaultResourceRequestsPrefix+tenancy.GPUResource)
	}
	if s.CPUMillis > 0 {
		set(*resource.NewMilliQuantity(s.CPUMillis*r, resource.DecimalSI), corev1.ResourceCPU, corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU)
	}
	if s.MemoryBytes > 0 {
		set(*resource.NewQuantity(s.MemoryBytes*r, resource.BinarySI), corev1.ResourceMemory, corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory)
	}
	set(*resource.NewQuantity(r, resource.DecimalSI), corev1.ResourcePods, "count/pods")
	if s.Replicas > 1 {
		set(*resource.NewQuantity(1, resource.DecimalSI), corev1.ResourceServices, "count/services")
	}
	return d
}

// fits lists what of quotas the demand d exceeds. Scoped quotas are left to
// the apiserver's admission.
func fits(quotas []corev1.ResourceQuota, d corev1.ResourceList) []QuotaViolation {
	var vs []QuotaViolation
	for _, q := range quotas {
		if len(q.Spec.Scopes) > 0 || q.Spec.ScopeSelector != nil {
			continue
		}
		hard := q.Status.Hard
		if hard == nil {
			hard = q.Spec.Hard
		}
		for name, h := range hard {
			req, ok := d[name]
			if !ok {
				continue
			}
			used := q.Status.Used[name]
			total := used.DeepCopy()
			total.Add(req)
			if total.Cmp(h) > 0 {
				vs = append(vs, QuotaViolation{Quota: q.Name, Resource: name, Hard: h, Used: used, Requested: req})
			}
		}
	}
	// GPUs first: they are what a data scientist asks about.
	gpu := corev1.DefaultResourceRequestsPrefix + tenancy.GPUResource
	slices.SortFunc(vs, func(a, b QuotaViolation) int {
		if (a.Resource == gpu) != (b.Resource == gpu) {
			if a.Resource == gpu {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Quota, b.Quota), cmp.Compare(a.Resource, b.Resource))
	})
	return vs
}

// checkQuota refuses a job the namespace's quotas, as the apiserver has
// them now, cannot hold.
func (e *Executor) checkQuota(ctx context.Context, ns string, s executor.Spec) error {
	list, err := e.cs.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return mapError(err, "list", "resourcequotas", ns, "")
	}
	if vs := fits(list.Items, demand(s)); len(vs) > 0 {
		return newQuotaError(ns, vs)
	}
	return nil
}
