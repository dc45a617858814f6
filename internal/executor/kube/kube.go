package kube

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tenancy"
)

// Config shapes what the executor creates. Zero fields take the defaults in
// brackets.
type Config struct {
	// Namespace maps a project to its namespace [tenancy.NamespaceName].
	Namespace func(team, project string) string
	// ServiceAccount runs the jobs' pods [tenancy.ServiceAccount].
	ServiceAccount string
	// CheckpointPVC is a PersistentVolumeClaim, present in every project's
	// namespace, that holds checkpoints under one directory per job. Empty:
	// an emptyDir, whose checkpoints do not survive preemption.
	CheckpointPVC string
	// CheckpointMountPath is where the checkpoint directory is mounted when
	// the spec names none [/mlportal/checkpoint].
	CheckpointMountPath string
	// CheckpointGrace is the pods' terminationGracePeriodSeconds: how long a
	// job has from SIGTERM to write its checkpoint when Kubernetes itself
	// stops it (timeout, node drain) [30s]. Stop passes its own grace.
	CheckpointGrace time.Duration
	// PriorityClassName is set on every pod when not empty.
	PriorityClassName string
	// GPUTypeLabel is the node label read for the GPU type when the node has
	// no mlportal.io/gpu-type [nvidia.com/gpu.product].
	GPUTypeLabel string
	// PoolLabel is the node label naming its pool, spot or on-demand
	// [mlportal.io/pool].
	PoolLabel string
	// GPUTaintKey is the taint GPU nodes carry; every job tolerates it
	// [nvidia.com/gpu].
	GPUTaintKey string
	// SpotTaintKey is the taint spot nodes carry; preemptible jobs tolerate
	// it [mlportal.io/spot].
	SpotTaintKey string
	// NodeSelector is a label selector limiting the nodes Inventory reports
	// (e.g. "mlportal.io/pool"); empty: all nodes with GPUs.
	NodeSelector string
	// MasterPort is MASTER_PORT of distributed jobs and the rendezvous
	// Service's port [29500].
	MasterPort int
	// PodAnnotations are added to every pod (e.g. an autoscaler's
	// safe-to-evict=false).
	PodAnnotations map[string]string
	// StopTimeout is how long Stop waits, beyond the grace period, for the
	// pods to be gone before it gives up with fault.ErrUnavailable [30s].
	StopTimeout time.Duration
	// PollInterval is how often Stop and Logs look again [250ms].
	PollInterval time.Duration
	// Clock dates Stop's annotation [clock.Real].
	Clock clock.Clock
}

func (c Config) withDefaults() Config {
	str := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Namespace == nil {
		c.Namespace = tenancy.NamespaceName
	}
	str(&c.ServiceAccount, tenancy.ServiceAccount)
	str(&c.CheckpointMountPath, "/mlportal/checkpoint")
	str(&c.GPUTypeLabel, "nvidia.com/gpu.product")
	str(&c.PoolLabel, "mlportal.io/pool")
	str(&c.GPUTaintKey, string(tenancy.GPUResource))
	str(&c.SpotTaintKey, "mlportal.io/spot")
	dur(&c.CheckpointGrace, 30*time.Second)
	dur(&c.StopTimeout, 30*time.Second)
	dur(&c.PollInterval, 250*time.Millisecond)
	if c.MasterPort == 0 {
		c.MasterPort = 29500
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	return c
}

// Executor runs jobs as Kubernetes Jobs. It is safe for concurrent use.
type Executor struct {
	cs  kubernetes.Interface
	cfg Config
	log *slog.Logger

	mu          sync.Mutex
	namespaces  map[string]string // job id → namespace, learnt by Start or a lookup
	costCenters map[string]string // namespace → its cost-centre label
}

var _ executor.Executor = (*Executor)(nil)

// New returns an executor that talks to the cluster through cs.
func New(cs kubernetes.Interface, cfg Config, log *slog.Logger) *Executor {
	return &Executor{cs: cs, cfg: cfg.withDefaults(), log: log, namespaces: map[string]string{}, costCenters: map[string]string{}}
}

// Start creates the job's rendezvous Service (several replicas) and one Job
// per replica, pinned to the spec's nodes. It is a no-op for a job whose
// Jobs exist, and refuses a job the namespace's quota cannot hold.
func (e *Executor) Start(ctx context.Context, spec executor.Spec) error {
	if spec.Attempt <= 0 {
		spec.Attempt = 1
	}
	if spec.Replicas <= 0 {
		spec.Replicas = 1
	}
	if err := validate(spec); err != nil {
		return err
	}
	ns := e.cfg.Namespace(spec.Team, spec.Project)
	costCenter, err := e.projectNamespace(ctx, ns)
	if err != nil {
		return err
	}
	if c, ok := spec.Labels[LabelCostCenter]; ok {
		costCenter = c
	}
	e.remember(spec.JobID, ns)

	if err := e.checkQuota(ctx, ns, spec); err != nil {
		// A replayed Start finds its own Jobs counted in the quota.
		if started, lerr := e.started(ctx, ns, spec); lerr != nil || !started {
			return err
		}
	}
	b := builder{cfg: e.cfg, spec: spec, ns: ns, costCenter: costCenter}
	var created []string
	if spec.Replicas > 1 {
		if err := e.createService(ctx, b.service()); err != nil {
			return err
		}
	}
	for i := range spec.Replicas {
		job := b.job(i)
		ok, err := e.createJob(ctx, job)
		if err != nil {
			e.rollback(ctx, ns, created)
			return err
		}
		if ok {
			created = append(created, job.Name)
		}
	}
	if len(created) > 0 {
		e.log.InfoContext(ctx, "kubernetes job started", "job", spec.JobID, "attempt", spec.Attempt,
			"namespace", ns, "replicas", spec.Replicas, "nodes", spec.Nodes)
	}
	return nil
}

// projectNamespace checks that ns exists and can take pods, and returns its
// cost-centre label. The answer is remembered: a namespace deleted later
// makes the Job's creation fail, which forgets it.
func (e *Executor) projectNamespace(ctx context.Context, ns string) (string, error) {
	e.mu.Lock()
	cc, ok := e.costCenters[ns]
	e.mu.Unlock()
	if ok {
		return cc, nil
	}
	obj, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", missingNamespace(ns)
	}
	if err != nil {
		return "", mapError(err, "get", "namespaces", "", ns)
	}
	if obj.DeletionTimestamp != nil {
		return "", fault.New(fault.ErrConflict, "the project's namespace %q is being deleted; jobs cannot start there", ns)
	}
	cc = obj.Labels[LabelCostCenter]
	e.mu.Lock()
	e.costCenters[ns] = cc
	e.mu.Unlock()
	return cc, nil
}

// started reports whether a Job of the spec's attempt exists.
func (e *Executor) started(ctx context.Context, ns string, spec executor.Spec) (bool, error) {
	list, err := e.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: attemptSelector(spec.JobID, spec.Attempt), Limit: 1})
	if err != nil {
		return false, mapError(err, "list", "jobs", ns, "")
	}
	return len(list.Items) > 0, nil
}

// createJob creates job; an existing Job of the same job id and attempt is
// success (false: not created now), another one a fault.
func (e *Executor) createJob(ctx context.Context, job *batchv1.Job) (bool, error) {
	_, err := e.cs.BatchV1().Jobs(job.Namespace).Create(ctx, job, metav1.CreateOptions{FieldManager: tenancy.FieldManager})
	if err == nil {
		return true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		err = mapError(err, "create", "jobs", job.Namespace, job.Name)
		if errors.Is(err, fault.ErrNotFound) || errors.Is(err, fault.ErrConflict) { // namespace gone or going
			e.mu.Lock()
			delete(e.costCenters, job.Namespace)
			e.mu.Unlock()
		}
		return false, err
	}
	old, gerr := e.cs.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
	if gerr != nil {
		return false, mapError(gerr, "get", "jobs", job.Namespace, job.Name)
	}
	return false, ours(old.Labels, job.Labels, "Job", job.Namespace, job.Name)
}

func (e *Executor) createService(ctx context.Context, svc *corev1.Service) error {
	_, err := e.cs.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{FieldManager: tenancy.FieldManager})
	if err == nil || !apierrors.IsAlreadyExists(err) {
		return mapError(err, "create", "services", svc.Namespace, svc.Name)
	}
	old, gerr := e.cs.CoreV1().Services(svc.Namespace).Get(ctx, svc.Name, metav1.GetOptions{})
	if gerr != nil {
		return mapError(gerr, "get", "services", svc.Namespace, svc.Name)
	}
	return ours(old.Labels, svc.Labels, "Service", svc.Namespace, svc.Name)
}

// ours accepts an existing object only when it belongs to the same job and
// attempt.
func ours(have, want map[string]string, kind, ns, name string) error {
	if have[LabelJob] == want[LabelJob] && have[LabelAttempt] == want[LabelAttempt] {
		return nil
	}
	return fault.New(fault.ErrAlreadyExists, "a %s named %q already exists in namespace %q and belongs to %s, not to job %q; "+
		"delete it or ask a cluster admin to", kind, name, ns, owner(have), want[LabelJob])
}

func owner(l map[string]string) string {
	if id := l[LabelJob]; id != "" {
		return "mlportal job " + strconv.Quote(id) + " attempt " + l[LabelAttempt]
	}
	return "something other than mlportal"
}

// rollback deletes the Jobs a failed Start created, so that no part of a
// gang holds GPUs alone. The Service stays for Cleanup.
func (e *Executor) rollback(ctx context.Context, ns string, names []string) {
	bg := metav1.DeletePropagationBackground
	for _, n := range names {
		if err := e.cs.BatchV1().Jobs(ns).Delete(ctx, n, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
			e.log.WarnContext(ctx, "kubernetes job rollback failed", "namespace", ns, "name", n, "err", err)
		}
	}
}

func (e *Executor) remember(jobID, ns string) {
	e.mu.Lock()
	e.namespaces[jobID] = ns
	e.mu.Unlock()
}

func (e *Executor) forget(jobID string) {
	e.mu.Lock()
	delete(e.namespaces, jobID)
	e.mu.Unlock()
}

// locate returns the namespace of a job: remembered, or found by its label
// across namespaces (after a restart). ok is false when no Job of it exists.
func (e *Executor) locate(ctx context.Context, jobID string) (ns string, ok bool, err error) {
	e.mu.Lock()
	ns, ok = e.namespaces[jobID]
	e.mu.Unlock()
	if ok {
		return ns, true, nil
	}
	list, err := e.cs.BatchV1().Jobs(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: jobSelector(jobID), Limit: 1})
	if err != nil {
		return "", false, mapError(err, "list", "jobs", "", "")
	}
	if len(list.Items) == 0 {
		return "", false, nil
	}
	ns = list.Items[0].Namespace
	e.remember(jobID, ns)
	return ns, true, nil
}

// run is one attempt of a job as it stands in the cluster.
type run struct {
	ns       string
	attempt  int
	replicas int
	jobs     []batchv1.Job // by replica index
	pods     []corev1.Pod
}

// current reads the job's latest attempt; ok is false when no Job of it
// exists.
func (e *Executor) current(ctx context.Context, jobID string) (r run, ok bool, err error) {
	ns, ok, err := e.locate(ctx, jobID)
	if err != nil || !ok {
		return run{}, false, err
	}
	list, err := e.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: jobSelector(jobID)})
	if err != nil {
		return run{}, false, mapError(err, "list", "jobs", ns, "")
	}
	if len(list.Items) == 0 {
		return run{}, false, nil
	}
	r = run{ns: ns}
	for _, j := range list.Items {
		r.attempt = max(r.attempt, atoi(j.Labels[LabelAttempt]))
	}
	for _, j := range list.Items {
		if atoi(j.Labels[LabelAttempt]) == r.attempt {
			r.jobs = append(r.jobs, j)
			r.replicas = max(r.replicas, atoi(j.Annotations[AnnotationReplicas]))
		}
	}
	slices.SortFunc(r.jobs, func(a, b batchv1.Job) int {
		return cmp.Compare(atoi(a.Labels[LabelReplica]), atoi(b.Labels[LabelReplica]))
	})
	r.replicas = max(r.replicas, len(r.jobs))
	pods, err := e.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: attemptSelector(jobID, r.attempt)})
	if err != nil {
		return run{}, false, mapError(err, "list", "pods", ns, "")
	}
	r.pods = pods.Items
	return r, true, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// podLabels are the labels of everything of replica i (and, without
// LabelReplica, of the Service).
func podLabels(spec executor.Spec, costCenter string) map[string]string {
	l := maps.Clone(spec.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[LabelTeam] = spec.Team
	l[LabelProject] = spec.Project
	l[LabelJob] = spec.JobID
	l[LabelAttempt] = strconv.Itoa(spec.Attempt)
	l[LabelManagedBy] = tenancy.ManagedByValue
	if costCenter != "" {
		l[LabelCostCenter] = costCenter
	} else {
		delete(l, LabelCostCenter)
	}
	return l
}
