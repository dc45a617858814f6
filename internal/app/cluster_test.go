package app_test

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// With mlportal.kubernetes.kubeconfig set, the namespace step applies the
// project's namespace and the configured default quota on a real
// kube-apiserver.
func TestProjectNamespaceOnARealCluster(t *testing.T) {
	cluster := testenv.Kubernetes(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.Kubernetes.Kubeconfig = cluster.Kubeconfig()
	})

	api := caller{t: t, url: srv.URL, token: "root"}
	call := api.call
	name := fmt.Sprintf("churn-%d", time.Now().UnixNano()%1_000_000) // the cluster outlives -count runs
	call("POST", "/api/v1/teams", map[string]any{"name": "fraud", "costCenter": "cc-42"}, 201)
	p := call("POST", "/api/v1/projects", map[string]any{"team": "fraud", "name": name, "template": "training"}, 201)
	cs := cluster.Clientset()
	ns := "fraud-" + name
	t.Cleanup(func() {
		if err := cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %v", err)
		}
	})
	if p = api.settle(p["id"].(string)); p["status"] != "succeeded" {
		t.Fatalf("saga: %v", p)
	}
	if p["namespace"] != ns {
		t.Errorf("namespace %v, want %s", p["namespace"], ns)
	}
	got, err := cs.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["mlportal.io/team"] != "fraud" {
		t.Errorf("namespace labels %v", got.Labels)
	}
	quotas, err := cs.CoreV1().ResourceQuotas(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil || len(quotas.Items) != 1 {
		t.Fatalf("quotas: %v, %v", quotas, err)
	}
	hard := quotas.Items[0].Spec.Hard
	for res, want := range map[corev1.ResourceName]string{"requests.nvidia.com/gpu": "4", "requests.cpu": "32", "requests.memory": "128Gi", "pods": "50"} {
		if q, ok := hard[res]; !ok || q.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("quota %s = %v, want %s", res, hard[res], want)
		}
	}

	// Deleting the project deletes its namespace.
	call("DELETE", "/api/v1/projects/"+p["id"].(string), nil, 202)
	if gone := api.settle(p["id"].(string)); gone != nil {
		t.Fatalf("after delete: %v", gone)
	}
	got, err = cs.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
	if err == nil && got.DeletionTimestamp == nil {
		t.Errorf("namespace %s still exists and is not terminating", ns)
	} else if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}
