package app_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/executor/kube"
	"github.com/mlportal/mlportal/internal/testenv"
)

// With mlportal.jobs.executor kubernetes, a job submitted through the API
// is admitted by mlportal's scheduler onto a kwok GPU node of the real
// control plane, bound there by kube-scheduler, and completes; the job's
// pod runs in the project's namespace with the team's labels.
func TestJobsOnARealCluster(t *testing.T) {
	cluster := testenv.Kubernetes(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	nodes, err := cluster.AddGPUNodes(ctx, 2, testenv.GPUNodeOptions{GPUs: 8, Pool: "jobs-api",
		Labels: map[string]string{kube.GPUTypeLabel: "h100"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, app.Options{AdminToken: "root"}, func(cfg *config.Config) {
		cfg.Kubernetes.Kubeconfig = cluster.Kubeconfig()
		cfg.Jobs.Executor = "kubernetes"
	})
	api := caller{t: t, url: srv.URL, token: "root"}
	api.call("POST", "/api/v1/teams", map[string]any{"name": "vision", "gpuQuota": []map[string]any{{"gpuType": "h100", "nominal": 4}}}, 201)
	name := "seg" + time.Now().Format("150405") // the cluster outlives -count runs
	p := api.call("POST", "/api/v1/projects", map[string]any{"team": "vision", "name": name, "template": "training",
		"quota": map[string]any{"gpus": 4}}, 201)
	if p = api.settle(p["id"].(string)); p["status"] != "succeeded" {
		t.Fatalf("project: %v", p)
	}
	j := api.call("POST", "/api/v1/jobs", map[string]any{"team": "vision", "project": name, "gpus": 2, "gpuType": "h100",
		"cpu": "1", "memory": "1Gi", "image": "busybox", "command": []string{"true"}}, 201)
	id := j["id"].(string)
	deadline := time.Now().Add(2 * time.Minute) // a failure guard
	for j["state"] != "succeeded" {
		if s := j["state"]; s == "failed" || s == "cancelled" || s == "timed-out" || time.Now().After(deadline) {
			t.Fatalf("job: %v", j)
		}
		time.Sleep(200 * time.Millisecond)
		j = api.call("GET", "/api/v1/jobs/"+id, nil, 200)
	}
	placed := j["nodes"].([]any)[0].(string)
	if placed != nodes[0] && placed != nodes[1] {
		t.Errorf("placed on %s, want one of %v", placed, nodes)
	}
	if j["gpuHours"].(float64) <= 0 || j["runId"] == nil {
		t.Errorf("job: %v", j)
	}
	pods, err := cluster.Clientset().CoreV1().Pods("vision-"+name).List(ctx, metav1.ListOptions{LabelSelector: "mlportal.io/job=" + id})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range pods.Items { // cleaned up, or finished on the chosen node
		if pod.Spec.NodeName != placed || pod.Status.Phase != corev1.PodSucceeded {
			t.Errorf("pod %s on %s: %s", pod.Name, pod.Spec.NodeName, pod.Status.Phase)
		}
	}
}
