package kube

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
)

func gangSpec() executor.Spec {
	return executor.Spec{
		JobID: "job-7", Team: "vision", Project: "detect", Attempt: 2,
		Image: "img:1", Command: []string{"python", "train.py"},
		Env:           map[string]string{"B": "2", "A": "1", EnvRank: "user's"},
		CheckpointDir: "/ckpt/",
		GPUs:          4, CPUMillis: 1500, MemoryBytes: 3 << 30,
		Replicas: 2, Nodes: []string{"node-b", "node-a"},
		Timeout:     90*time.Second + time.Millisecond,
		Preemptible: true,
		Tolerations: []scheduler.Toleration{{Key: "dedicated", Value: "train"}, {Key: "any"}},
		Labels:      map[string]string{"extra": "x", LabelCostCenter: "cc-9"},
	}
}

func TestPodPinnedForKubeScheduler(t *testing.T) {
	cfg := Config{Binding: BindByKubeScheduler}.withDefaults()
	pod := builder{cfg: cfg, spec: gangSpec(), ns: "vision-detect"}.pod(1).Spec
	term := pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(term) != 1 || len(term[0].MatchFields) != 1 || term[0].MatchFields[0].Key != "metadata.name" ||
		!slices.Equal(term[0].MatchFields[0].Values, []string{"node-a"}) {
		t.Errorf("affinity %+v, want metadata.name In [node-a]", term)
	}
	if pod.NodeName != "" {
		t.Errorf("nodeName %q set: it would bypass kube-scheduler", pod.NodeName)
	}
}

func TestPodObject(t *testing.T) {
	cfg := Config{CheckpointPVC: "checkpoints", PriorityClassName: "mlportal-batch",
		PodAnnotations: map[string]string{"safe-to-evict": "false"}}.withDefaults()
	b := builder{cfg: cfg, spec: gangSpec(), ns: "vision-detect", costCenter: "cc-9"}
	job := b.pod(1)

	if job.Name != "mlp-job-7-a2-1" || job.Namespace != "vision-detect" || len(job.OwnerReferences) != 0 {
		t.Errorf("name %s/%s owners %v", job.Namespace, job.Name, job.OwnerReferences)
	}
	wantLabels := map[string]string{
		LabelTeam: "vision", LabelProject: "detect", LabelJob: "job-7", LabelAttempt: "2", LabelReplica: "1",
		LabelCostCenter: "cc-9", LabelManagedBy: "mlportal", "extra": "x",
	}
	if diff := cmp.Diff(wantLabels, job.Labels); diff != "" {
		t.Errorf("pod labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"safe-to-evict": "false", AnnotationNode: "node-a", AnnotationReplicas: "2"}, job.Annotations); diff != "" {
		t.Errorf("pod annotations (-want +got):\n%s", diff)
	}
	pod := job.Spec
	if *pod.ActiveDeadlineSeconds != 91 {
		t.Errorf("activeDeadlineSeconds %d, want 91", *pod.ActiveDeadlineSeconds)
	}
	if pod.NodeName != "node-a" || pod.Affinity != nil {
		t.Errorf("nodeName %q affinity %+v: want the pod bound to node-a at creation", pod.NodeName, pod.Affinity)
	}
	wantTol := []corev1.Toleration{
		{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "train"},
		{Key: "any", Operator: corev1.TolerationOpExists},
		{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists},
		{Key: "mlportal.io/spot", Operator: corev1.TolerationOpExists},
	}
	if diff := cmp.Diff(wantTol, pod.Tolerations); diff != "" {
		t.Errorf("tolerations (-want +got):\n%s", diff)
	}
	if pod.Hostname != "mlp-job-7-a2-1" || pod.Subdomain != "mlp-job-7-a2" {
		t.Errorf("hostname %q subdomain %q", pod.Hostname, pod.Subdomain)
	}
	if pod.ServiceAccountName != "mlportal-runner" || pod.PriorityClassName != "mlportal-batch" || *pod.TerminationGracePeriodSeconds != 30 ||
		pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("pod spec %+v", pod)
	}
	c := pod.Containers[0]
	wantRes := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("4"), "cpu": resource.MustParse("1500m"), "memory": resource.MustParse("3Gi")}
	quantities := cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })
	if diff := cmp.Diff(wantRes, c.Resources.Requests, quantities); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRes, c.Resources.Limits, quantities); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	wantEnv := []corev1.EnvVar{
		{Name: "A", Value: "1"}, {Name: "B", Value: "2"},
		{Name: EnvMasterAddr, Value: "mlp-job-7-a2-0.mlp-job-7-a2.vision-detect.svc"},
		{Name: EnvMasterPort, Value: "29500"},
		{Name: EnvAttempt, Value: "2"},
		{Name: EnvCheckpointDir, Value: "/ckpt"},
		{Name: EnvJobID, Value: "job-7"},
		{Name: EnvRank, Value: "1"},
		{Name: EnvWorldSize, Value: "2"},
	}
	if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if v := pod.Volumes[0]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "checkpoints" {
		t.Errorf("volume %+v, want the checkpoint claim", v)
	}
	if m := c.VolumeMounts[0]; m.MountPath != "/ckpt" || m.SubPath != "job-7" {
		t.Errorf("mount %+v", m)
	}

	svc := b.service()
	if svc.Name != "mlp-job-7-a2" || svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses ||
		svc.Spec.Selector[LabelJob] != "job-7" || svc.Spec.Selector[LabelAttempt] != "2" || svc.Spec.Ports[0].Port != 29500 {
		t.Errorf("service %+v", svc)
	}
}

func TestPodObjectDefaults(t *testing.T) {
	s := executor.Spec{JobID: "j", Team: "t", Project: "p", Attempt: 1, Image: "i", Replicas: 1, Nodes: []string{"n"}}
	job := builder{cfg: Config{}.withDefaults(), spec: s, ns: "t-p"}.pod(0)
	pod := job.Spec
	if pod.ActiveDeadlineSeconds != nil {
		t.Errorf("activeDeadlineSeconds %d without a timeout", *pod.ActiveDeadlineSeconds)
	}
	if v := pod.Volumes[0]; v.EmptyDir == nil {
		t.Errorf("volume %+v, want an emptyDir without a claim", v)
	}
	c := pod.Containers[0]
	if c.VolumeMounts[0].MountPath != "/mlportal/checkpoint" || c.VolumeMounts[0].SubPath != "" {
		t.Errorf("mount %+v", c.VolumeMounts[0])
	}
	if len(c.Resources.Requests) != 0 {
		t.Errorf("requests %v: what the spec leaves at zero is the LimitRange's to default", c.Resources.Requests)
	}
	if pod.Hostname != "" || pod.Subdomain != "" {
		t.Errorf("a single replica needs no rendezvous: hostname %q subdomain %q", pod.Hostname, pod.Subdomain)
	}
	if slices.ContainsFunc(pod.Tolerations, func(t corev1.Toleration) bool { return t.Key == "mlportal.io/spot" }) {
		t.Errorf("a job that is not preemptible tolerates the spot taint: %v", pod.Tolerations)
	}
	if _, ok := job.Labels[LabelCostCenter]; ok {
		t.Errorf("empty cost centre label set")
	}
}

func TestValidate(t *testing.T) {
	ok := executor.Spec{JobID: "j", Team: "t", Project: "p", Image: "i", Replicas: 1, Nodes: []string{"n"}}
	if err := validate(ok); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	bad := ok
	bad.JobID = "has space"
	bad.Image = ""
	bad.Replicas = 2
	bad.Env = map[string]string{"1X": "v"}
	bad.Labels = map[string]string{"k": "bad value"}
	bad.GPUs = -1
	err := validate(bad)
	fe, isFault := fault.As(err)
	if !isFault || !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("validate: %v, want fault.ErrInvalid", err)
	}
	var fields []string
	for _, f := range fe.Fields {
		fields = append(fields, f.Field)
	}
	if want := []string{"env", "image", "jobID", "labels", "nodes", "resources"}; !slices.Equal(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
}

func TestNames(t *testing.T) {
	for _, id := range []string{
		"01JD3QZ8W4M2Q8V6XKAB1CDEFG", "job-1", "a", "UPPER_and.dots", "-leading-", "ünïcødé", "!!!",
		strings.Repeat("x", 63), strings.Repeat("ab-", 21),
	} {
		p := idPart(id)
		for _, name := range []string{baseName(id, 99999), replicaName(id, 99999, 999)} {
			if msgs := validation.IsDNS1035Label(name); len(msgs) > 0 {
				t.Errorf("id %q: name %q is no DNS-1035 label: %v", id, name, msgs)
			}
		}
		if len(p) > 40 {
			t.Errorf("id %q: part %q longer than 40", id, p)
		}
	}
	if idPart("job-1") != "job-1" {
		t.Errorf("a valid id changed: %q", idPart("job-1"))
	}
	if idPart("01JD3Q") == idPart("01jd3q") {
		t.Errorf("ids differing in case share a name")
	}
}

func FuzzNames(f *testing.F) {
	for _, s := range []string{"job", "01JD3QZ8W4M2Q8V6XKAB1CDEFG", "a.b_c", "--", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if msgs := validation.IsDNS1035Label(replicaName(id, 1<<20, 1<<10)); len(msgs) > 0 {
			t.Errorf("id %q: %v", id, msgs)
		}
	})
}
