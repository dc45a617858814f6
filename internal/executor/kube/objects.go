package kube

import (
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
)

// Environment variables the executor sets on every replica.
const (
	EnvCheckpointDir = "MLPORTAL_CHECKPOINT_DIR"
	EnvJobID         = "MLPORTAL_JOB_ID"
	EnvAttempt       = "MLPORTAL_ATTEMPT"
	EnvRank          = "RANK"
	EnvWorldSize     = "WORLD_SIZE"
	EnvMasterAddr    = "MASTER_ADDR"
	EnvMasterPort    = "MASTER_PORT"
)

// validate refuses a spec Kubernetes could not run, naming every field.
func validate(s executor.Spec) error {
	var errs []fault.FieldError
	add := func(field, format string, args ...any) { errs = append(errs, fault.Field(field, format, args...)) }
	if s.JobID == "" {
		add("jobID", "is required")
	} else if msgs := validation.IsValidLabelValue(s.JobID); len(msgs) > 0 {
		add("jobID", "must be usable as a Kubernetes label value: %s (got %q)", strings.Join(msgs, "; "), s.JobID)
	}
	if s.Team == "" {
		add("team", "is required")
	}
	if s.Project == "" {
		add("project", "is required")
	}
	if s.Image == "" {
		add("image", "is required on Kubernetes: the container image with the project's code and dependencies")
	}
	if len(s.Nodes) != s.Replicas {
		add("nodes", "must name one node per replica (%d replicas, %d nodes)", s.Replicas, len(s.Nodes))
	}
	for i, n := range s.Nodes {
		if n == "" {
			add(fmt.Sprintf("nodes[%d]", i), "is empty; the scheduler places every replica")
		}
	}
	if s.GPUs < 0 || s.CPUMillis < 0 || s.MemoryBytes < 0 {
		add("resources", "must not be negative")
	}
	if s.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	for k, v := range s.Labels {
		if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
			add("labels", "%s=%s is not a valid Kubernetes label: %s", k, v, strings.Join(msgs, "; "))
		}
	}
	for k := range s.Env {
		if msgs := validation.IsEnvVarName(k); len(msgs) > 0 {
			add("env", "%q is not a valid environment variable name: %s", k, strings.Join(msgs, "; "))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b fault.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return fault.Invalid("the job cannot run on Kubernetes", errs...)
}

// builder makes the objects of one attempt of a job.
type builder struct {
	cfg        Config
	spec       executor.Spec
	ns         string
	costCenter string
}

// service is the headless Service giving replica i the DNS name
// "<replicaName(i)>.<service>.<namespace>.svc".
func (b builder) service() *corev1.Service {
	l := podLabels(b.spec, b.costCenter)
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: baseName(b.spec.JobID, b.spec.Attempt), Namespace: b.ns, Labels: l},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  map[string]string{LabelJob: b.spec.JobID, LabelAttempt: strconv.Itoa(b.spec.Attempt)},
			// Replicas resolve each other before they are ready.
			PublishNotReadyAddresses: true,
			Ports: []corev1.ServicePort{{
				Name: "rendezvous", Port: int32(b.cfg.MasterPort), TargetPort: intstr.FromInt32(int32(b.cfg.MasterPort)),
				Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// pod is replica i's pod, bound (or, with BindByKubeScheduler, pinned) to
// the replica's node. It has no owner:
// mlportal's controller follows and cleans it up, and restartPolicy Never
// leaves retries to mlportal's requeue.
func (b builder) pod(i int) *corev1.Pod {
	s := b.spec
	name := replicaName(s.JobID, s.Attempt, i)
	l := podLabels(s, b.costCenter)
	l[LabelReplica] = strconv.Itoa(i)
	ann := maps.Clone(b.cfg.PodAnnotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationReplicas], ann[AnnotationNode] = strconv.Itoa(s.Replicas), s.Nodes[i]

	spec := corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		ServiceAccountName:            b.cfg.ServiceAccount,
		PriorityClassName:             b.cfg.PriorityClassName,
		TerminationGracePeriodSeconds: ptr(int64(math.Ceil(b.cfg.CheckpointGrace.Seconds()))),
		EnableServiceLinks:            ptr(false),
		NodeSelector:                  maps.Clone(s.NodeSelector),
		Tolerations:                   b.tolerations(),
		Volumes:                       []corev1.Volume{b.checkpointVolume()},
		Containers: []corev1.Container{{
			Name:         containerName,
			Image:        s.Image,
			Command:      slices.Clone(s.Command),
			Env:          b.env(i),
			Resources:    b.resources(),
			VolumeMounts: []corev1.VolumeMount{b.checkpointMount()},
		}},
	}
	if b.cfg.Binding == BindByKubeScheduler {
		spec.Affinity = pinned(s.Nodes[i])
	} else {
		spec.NodeName = s.Nodes[i]
	}
	if s.Replicas > 1 {
		spec.Hostname = name
		spec.Subdomain = baseName(s.JobID, s.Attempt)
	}
	if s.Timeout > 0 {
		spec.ActiveDeadlineSeconds = ptr(max(1, int64(math.Ceil(s.Timeout.Seconds()))))
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: b.ns, Labels: l, Annotations: ann}, Spec: spec}
}

// pinned requires the node named node: metadata.name, exact, through the
// scheduler (unlike spec.nodeName).
func pinned(node string) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{
					Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
				}},
			}},
		},
	}}
}

// tolerations are the spec's, the GPU taint's and, for preemptible jobs, the
// spot taint's.
func (b builder) tolerations() []corev1.Toleration {
	var out []corev1.Toleration
	for _, t := range b.spec.Tolerations {
		tol := corev1.Toleration{Key: t.Key, Operator: corev1.TolerationOpExists}
		if t.Value != "" {
			tol.Operator, tol.Value = corev1.TolerationOpEqual, t.Value
		}
		out = append(out, tol)
	}
	out = append(out, corev1.Toleration{Key: b.cfg.GPUTaintKey, Operator: corev1.TolerationOpExists})
	if b.spec.Preemptible {
		out = append(out, corev1.Toleration{Key: b.cfg.SpotTaintKey, Operator: corev1.TolerationOpExists})
	}
	return out
}

// resources sets requests = limits for what the spec asks; what it leaves at
// zero the namespace's LimitRange defaults.
func (b builder) resources() corev1.ResourceRequirements {
	rl := corev1.ResourceList{}
	if b.spec.GPUs > 0 {
		rl[tenancy.GPUResource] = *resource.NewQuantity(int64(b.spec.GPUs), resource.DecimalSI)
	}
	if b.spec.CPUMillis > 0 {
		rl[corev1.ResourceCPU] = *resource.NewMilliQuantity(b.spec.CPUMillis, resource.DecimalSI)
	}
	if b.spec.MemoryBytes > 0 {
		rl[corev1.ResourceMemory] = *resource.NewQuantity(b.spec.MemoryBytes, resource.BinarySI)
	}
	return corev1.ResourceRequirements{Requests: rl, Limits: rl.DeepCopy()}
}

// checkpointPath is the directory inside the container.
func (b builder) checkpointPath() string {
	if p := b.spec.CheckpointDir; path.IsAbs(p) {
		return path.Clean(p)
	}
	return b.cfg.CheckpointMountPath
}

func (b builder) checkpointVolume() corev1.Volume {
	v := corev1.Volume{Name: checkpointVolume}
	if b.cfg.CheckpointPVC == "" {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	} else {
		v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: b.cfg.CheckpointPVC}
	}
	return v
}

// checkpointMount mounts the job's own directory of the claim (every attempt
// the same), or the emptyDir.
func (b builder) checkpointMount() corev1.VolumeMount {
	m := corev1.VolumeMount{Name: checkpointVolume, MountPath: b.checkpointPath()}
	if b.cfg.CheckpointPVC != "" {
		m.SubPath = idPart(b.spec.JobID)
	}
	return m
}

// env is the spec's environment, sorted, then what the executor sets, which
// wins.
func (b builder) env(i int) []corev1.EnvVar {
	s := b.spec
	vars := maps.Clone(s.Env)
	if vars == nil {
		vars = map[string]string{}
	}
	vars[EnvCheckpointDir] = b.checkpointPath()
	vars[EnvJobID] = s.JobID
	vars[EnvAttempt] = strconv.Itoa(s.Attempt)
	vars[EnvRank] = strconv.Itoa(i)
	vars[EnvWorldSize] = strconv.Itoa(s.Replicas)
	vars[EnvMasterPort] = strconv.Itoa(b.cfg.MasterPort)
	if s.Replicas > 1 {
		vars[EnvMasterAddr] = fmt.Sprintf("%s.%s.%s.svc", replicaName(s.JobID, s.Attempt, 0), baseName(s.JobID, s.Attempt), b.ns)
	} else {
		vars[EnvMasterAddr] = "localhost"
	}
	out := make([]corev1.EnvVar, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		out = append(out, corev1.EnvVar{Name: k, Value: vars[k]})
	}
	return out
}

func ptr[T any](v T) *T { return &v }
