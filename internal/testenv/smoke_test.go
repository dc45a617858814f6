package testenv_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/mlportal/mlportal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// gpuPod is a pod spec asking for gpus GPUs that tolerates the GPU taint and
// lands only on the given pool.
func gpuPod(gpus int64, pool string) corev1.PodSpec {
	q := *resource.NewQuantity(gpus, resource.DecimalSI)
	return corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		NodeSelector:  map[string]string{testenv.PoolLabel: pool},
		Tolerations: []corev1.Toleration{{
			Key: testenv.GPUTaintKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
		}},
		Containers: []corev1.Container{{
			Name:  "train",
			Image: "example.invalid/train:1",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{testenv.GPUResource: q},
				Limits:   corev1.ResourceList{testenv.GPUResource: q},
			},
		}},
	}
}

func TestKubernetesQuotaAndGPUJob(t *testing.T) {
	c := testenv.Kubernetes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := c.Clientset()
	ns := c.Namespace(t)

	const pool = "smoke"
	nodes, err := c.AddGPUNodes(ctx, 2, testenv.GPUNodeOptions{GPUs: 4, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}

	_, err = cs.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "gpus"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			"requests.nvidia.com/gpu": resource.MustParse("2"),
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// ResourceQuota admission refuses pods until the quota controller has
	// computed the quota's status once.
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "gpus", metav1.GetOptions{})
		return err == nil && q.Status.Hard != nil, err
	}); err != nil {
		t.Fatalf("quota status never computed: %v", err)
	}

	// Over quota: the real ResourceQuota admission answers 403 exceeded quota.
	_, err = cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "too-big"},
		Spec:       gpuPod(4, pool),
	}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") {
		t.Fatalf("pod asking 4 GPUs over a quota of 2: got %v, want 403 exceeded quota", err)
	}

	// Within quota: a Job with 2 GPUs is bound to a kwok GPU node and completes.
	job, err := cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "fits"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
				"pod-complete.stage.kwok.x-k8s.io/delay": "1s",
			}},
			Spec: gpuPod(2, pool),
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, job.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range j.Status.Conditions {
			if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue {
				return false, &jobFailed{cond.Message}
			}
			if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("job %s did not complete: %v; pods: %s (component logs: %s)", job.Name, err, describePods(cs, ns), c.LogDir())
	}

	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Fatalf("job %s has %d pods, want 1", job.Name, len(pods.Items))
	}
	p := pods.Items[0]
	if p.Status.Phase != corev1.PodSucceeded {
		t.Errorf("pod %s phase %s, want Succeeded", p.Name, p.Status.Phase)
	}
	onGPUNode := false
	for _, n := range nodes {
		onGPUNode = onGPUNode || p.Spec.NodeName == n
	}
	if !onGPUNode {
		t.Errorf("pod %s bound to %q, want one of the kwok GPU nodes %v", p.Name, p.Spec.NodeName, nodes)
	}
}

type jobFailed struct{ msg string }

func (e *jobFailed) Error() string { return "job failed: " + e.msg }

func describePods(cs kubernetes.Interface, ns string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, p := range pods.Items {
		b.WriteString(p.Name + " node=" + p.Spec.NodeName + " phase=" + string(p.Status.Phase))
		for _, cond := range p.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				b.WriteString(" " + string(cond.Type) + ":" + cond.Reason + ":" + cond.Message)
			}
		}
		b.WriteString("; ")
	}
	return b.String()
}

func TestPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	if _, err := db.ExecContext(ctx, `CREATE TABLE runs (id bigserial PRIMARY KEY, name text NOT NULL, gpus int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO runs (name, gpus) VALUES ($1, $2), ($3, $4)`, "a", 2, "b", 4); err != nil {
		t.Fatal(err)
	}
	var n, total int
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(gpus) FROM runs`).Scan(&n, &total); err != nil {
		t.Fatal(err)
	}
	if n != 2 || total != 6 {
		t.Fatalf("got %d rows with %d GPUs, want 2 rows with 6", n, total)
	}
	// The database is the test's own: a second call gives another, empty one.
	other, err := sql.Open("pgx", testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var exists bool
	if err := other.QueryRowContext(ctx, `SELECT to_regclass('runs') IS NOT NULL`).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("a fresh database already has table runs")
	}
}
