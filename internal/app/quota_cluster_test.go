package app_test

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/testenv"
)

// Approving a quota request that names a project changes the team's quota
// and that project's namespace ResourceQuota (requests.nvidia.com/gpu) on
// a real kube-apiserver, together.
func TestQuotaRequestChangesTheNamespaceQuota(t *testing.T) {
	cluster := testenv.Kubernetes(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.Kubernetes.Kubeconfig = cluster.Kubeconfig()
	})
	api := caller{t: t, url: srv.URL, token: "root"}
	call := api.call
	name := fmt.Sprintf("quota-%d", time.Now().UnixNano()%1_000_000) // the cluster outlives -count runs
	ns := "vision-" + name
	cs := cluster.Clientset()
	t.Cleanup(func() {
		if err := cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %v", err)
		}
	})
	call("POST", "/api/v1/teams", map[string]any{"name": "vision", "gpuQuota": []map[string]any{{"gpuType": "a100", "nominal": 8}}}, 201)
	p := call("POST", "/api/v1/projects", map[string]any{"team": "vision", "name": name, "template": "training", "quota": map[string]any{"gpus": 4}}, 201)
	if p = api.settle(p["id"].(string)); p["status"] != "succeeded" || p["namespace"] != ns {
		t.Fatalf("saga: %v", p)
	}
	gpuQuota := func() string {
		t.Helper()
		quotas, err := cs.CoreV1().ResourceQuotas(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil || len(quotas.Items) != 1 {
			t.Fatalf("quotas of %s: %v, %v", ns, quotas, err)
		}
		q := quotas.Items[0].Spec.Hard["requests.nvidia.com/gpu"]
		return q.String()
	}
	if got := gpuQuota(); got != "4" {
		t.Fatalf("before: requests.nvidia.com/gpu = %s, want 4", got)
	}

	r := call("POST", "/api/v1/teams/vision/quota-requests", map[string]any{"gpuType": "a100", "gpus": 16, "project": name, "projectGpus": 12,
		"justification": "retraining on a year of data needs 12 GPUs"}, 201)
	a := call("POST", "/api/v1/teams/vision/quota-requests/"+r["id"].(string)+"/approve", map[string]any{"comment": "ok"}, 200)
	if a["status"] != "approved" || a["applied"] != true {
		t.Fatalf("approve: %v", a)
	}
	if got, want := resource.MustParse(gpuQuota()), resource.MustParse("12"); got.Cmp(want) != 0 {
		t.Errorf("after approval: requests.nvidia.com/gpu = %s, want 12", got.String())
	}
	tm := call("GET", "/api/v1/teams/vision", nil, 200)
	if q := tm["gpuQuota"].([]any)[0].(map[string]any); q["nominal"] != 16.0 {
		t.Errorf("team quota after approval: %v", q)
	}
	q := call("GET", "/api/v1/teams/vision/quota", nil, 200)
	if prj := q["projects"].([]any)[0].(map[string]any); prj["gpus"] != 12.0 || prj["namespace"] != ns {
		t.Errorf("quota view: %v", q)
	}
}
