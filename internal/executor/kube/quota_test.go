package kube

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
)

func quota(name string, hard, used map[corev1.ResourceName]string) corev1.ResourceQuota {
	q := corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name}}
	q.Spec.Hard, q.Status.Hard, q.Status.Used = corev1.ResourceList{}, corev1.ResourceList{}, corev1.ResourceList{}
	for k, v := range hard {
		q.Spec.Hard[k] = resource.MustParse(v)
		q.Status.Hard[k] = resource.MustParse(v)
	}
	for k, v := range used {
		q.Status.Used[k] = resource.MustParse(v)
	}
	return q
}

func TestDemand(t *testing.T) {
	d := demand(executor.Spec{GPUs: 4, CPUMillis: 1500, MemoryBytes: 2 << 30, Replicas: 3})
	want := map[corev1.ResourceName]string{
		"requests.nvidia.com/gpu": "12", "cpu": "4500m", "requests.cpu": "4500m", "limits.cpu": "4500m",
		"memory": "6Gi", "requests.memory": "6Gi", "limits.memory": "6Gi",
		"pods": "3", "count/pods": "3", "services": "1", "count/services": "1",
	}
	if len(d) != len(want) {
		t.Errorf("demand has %d resources, want %d: %v", len(d), len(want), d)
	}
	for k, v := range want {
		if q := d[k]; q.Cmp(resource.MustParse(v)) != 0 {
			t.Errorf("%s = %s, want %s", k, q.String(), v)
		}
	}
	if d := demand(executor.Spec{Replicas: 1}); len(d) != 2 {
		t.Errorf("a job with no resources set demands %v; want only pods", d)
	}
}

func TestFits(t *testing.T) {
	d := demand(executor.Spec{GPUs: 4, CPUMillis: 1000, Replicas: 2})
	scoped := quota("scoped", map[corev1.ResourceName]string{"pods": "0"}, nil)
	scoped.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}
	fresh := quota("fresh", nil, nil)
	fresh.Spec.Hard = corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse("4")}
	fresh.Status = corev1.ResourceQuotaStatus{}

	tests := []struct {
		name   string
		quotas []corev1.ResourceQuota
		want   []string // resource/never
	}{
		{name: "room", quotas: []corev1.ResourceQuota{quota("q", map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "16", "limits.cpu": "8"}, map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "8"})}},
		{name: "exactly full", quotas: []corev1.ResourceQuota{quota("q", map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "16"}, map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "8"})}},
		{name: "in use", quotas: []corev1.ResourceQuota{quota("q", map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "16"}, map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "9"})},
			want: []string{"requests.nvidia.com/gpu/later"}},
		{name: "never, GPUs first", quotas: []corev1.ResourceQuota{quota("q", map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "4", "limits.cpu": "1", "pods": "1"}, nil)},
			want: []string{"requests.nvidia.com/gpu/never", "limits.cpu/never", "pods/never"}},
		{name: "scoped quotas are the apiserver's", quotas: []corev1.ResourceQuota{scoped}},
		{name: "status not computed yet", quotas: []corev1.ResourceQuota{fresh}, want: []string{"requests.nvidia.com/gpu/never"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range fits(tt.quotas, d) {
				when := "later"
				if v.Never() {
					when = "never"
				}
				got = append(got, string(v.Resource)+"/"+when)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("fits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQuotaError(t *testing.T) {
	q := quota("mlportal-quota", map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "8"}, map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "6"})
	later := newQuotaError("vision-p1", fits([]corev1.ResourceQuota{q}, demand(executor.Spec{GPUs: 4, Replicas: 1})))
	if !errors.Is(later, fault.ErrConflict) || !strings.Contains(later.Error(),
		`requests.nvidia.com/gpu: the job needs 4, ResourceQuota "mlportal-quota" allows 8 and 6 is in use`) {
		t.Errorf("later: %v", later)
	}
	never := newQuotaError("vision-p1", fits([]corev1.ResourceQuota{q}, demand(executor.Spec{GPUs: 8, Replicas: 2})))
	if !errors.Is(never, fault.ErrInvalid) || !strings.Contains(never.Error(), "even when nothing else runs") {
		t.Errorf("never: %v", never)
	}
}
