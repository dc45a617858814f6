package kube

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

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
	// Binding is who binds a job's pods to the nodes mlportal's scheduler
	// chose [BindByMlportal]: see Binding's values and ADR 0012.
	Binding Binding
}

// Binding says how a pod gets onto the node mlportal's scheduler chose.
type Binding string

const (
	// BindByMlportal creates each pod with spec.nodeName set: mlportal is
	// the pod's scheduler, the pod is bound in the same request that
	// creates it, and the node's kubelet admits it (a node that cannot
	// hold it fails the pod, and the job is requeued). For GPU nodes
	// mlportal owns, the usual set-up.
	BindByMlportal Binding = "mlportal"
	// BindByKubeScheduler pins each pod by required node affinity and
	// leaves the binding to kube-scheduler, which checks the node's
	// resources once more: for GPU nodes shared with workloads mlportal
	// does not schedule. One more apiserver write per pod, and
	// kube-scheduler's rate.
	BindByKubeScheduler Binding = "kube-scheduler"
)

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
	if c.Binding == "" {
		c.Binding = BindByMlportal
	}
	return c
}

// Executor runs jobs as Kubernetes pods. It is safe for concurrent use.
type Executor struct {
	cs  kubernetes.Interface
	cfg Config
	log *slog.Logger

	inf watchCache

	mu          sync.Mutex
	namespaces  map[string]string     // job id → namespace, learnt by Start or a lookup
	attempts    map[string][2]int     // job id → the attempt Start last created and its replicas
	stops       map[string]stopRecord // job id → what Stop recorded for an attempt
	costCenters map[string]string     // namespace → its cost-centre label
}

// stopRecord is Stop's reason for one attempt, kept until Cleanup (the pods
// carry it too while they exist).
type stopRecord struct {
	attempt int
	reason  string
	at      string // RFC 3339
}

var _ executor.Executor = (*Executor)(nil)

// New returns an executor that talks to the cluster through cs. Its watch
// caches start on first use; Close stops them.
func New(cs kubernetes.Interface, cfg Config, log *slog.Logger) *Executor {
	return &Executor{cs: cs, cfg: cfg.withDefaults(), log: log, namespaces: map[string]string{}, attempts: map[string][2]int{},
		stops: map[string]stopRecord{}, costCenters: map[string]string{}}
}

// Start creates the job's rendezvous Service (several replicas) and one pod
// per replica, pinned to the spec's nodes. It is a no-op for a job whose
// pods exist, and refuses a job the namespace's quota cannot hold.
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
	wc, err := e.caches(ctx)
	if err != nil {
		return err
	}
	e.remember(spec.JobID, ns)

	if vs := fits(wc.quotasIn(ns), demand(spec)); len(vs) > 0 {
		// A replayed Start finds its own pods counted in the quota.
		if !slices.ContainsFunc(wc.podsOfJob(spec.JobID), func(p *corev1.Pod) bool { return atoi(p.Labels[LabelAttempt]) == spec.Attempt }) {
			// The cache may lag the quota: ask the apiserver before refusing.
			if err := e.checkQuota(ctx, ns, spec); err != nil {
				return err
			}
		}
	}
	e.mu.Lock()
	if e.attempts[spec.JobID][0] <= spec.Attempt {
		e.attempts[spec.JobID] = [2]int{spec.Attempt, spec.Replicas}
	}
	e.mu.Unlock()
	b := builder{cfg: e.cfg, spec: spec, ns: ns, costCenter: costCenter}
	var created []string
	if spec.Replicas > 1 {
		if err := e.createService(ctx, b.service()); err != nil {
			return err
		}
	}
	for i := range spec.Replicas {
		pod := b.pod(i)
		ok, err := e.createPod(ctx, pod, spec)
		if err != nil {
			e.rollback(ctx, ns, created)
			return err
		}
		if ok {
			created = append(created, pod.Name)
		}
	}
	if len(created) > 0 {
		e.log.DebugContext(ctx, "kubernetes job started", "job", spec.JobID, "attempt", spec.Attempt,
			"namespace", ns, "replicas", spec.Replicas, "nodes", spec.Nodes)
	}
	return nil
}

// projectNamespace checks that ns exists and can take pods, and returns its
// cost-centre label. The answer is remembered: a namespace deleted later
// makes the pod's creation fail, which forgets it.
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

// createPod creates pod; an existing pod of the same job id and attempt is
// success (false: not created now), another one a fault. A refusal by the
// namespace's quota admission is a *QuotaError when the quota's numbers
// explain it.
func (e *Executor) createPod(ctx context.Context, pod *corev1.Pod, spec executor.Spec) (bool, error) {
	_, err := e.cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: tenancy.FieldManager})
	if err == nil {
		return true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		mapped := mapError(err, "create", "pods", pod.Namespace, pod.Name)
		if errors.Is(mapped, fault.ErrNotFound) || errors.Is(mapped, fault.ErrConflict) { // namespace gone or going
			e.mu.Lock()
			delete(e.costCenters, pod.Namespace)
			e.mu.Unlock()
		}
		if apierrors.IsForbidden(err) && errors.Is(mapped, fault.ErrConflict) { // exceeded quota
			if qerr := e.checkQuota(ctx, pod.Namespace, spec); qerr != nil {
				var qe *QuotaError
				if errors.As(qerr, &qe) {
					return false, qerr
				}
			}
		}
		return false, mapped
	}
	old, gerr := e.cs.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
	if gerr != nil {
		return false, mapError(gerr, "get", "pods", pod.Namespace, pod.Name)
	}
	return false, ours(old.Labels, pod.Labels, "pod", pod.Namespace, pod.Name)
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

// rollback deletes the pods a failed Start created, so that no part of a
// gang holds GPUs alone. The Service stays for Cleanup.
func (e *Executor) rollback(ctx context.Context, ns string, names []string) {
	for _, n := range names {
		if err := e.cs.CoreV1().Pods(ns).Delete(ctx, n, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil && !apierrors.IsNotFound(err) {
			e.log.WarnContext(ctx, "kubernetes pod rollback failed", "namespace", ns, "name", n, "err", err)
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
	delete(e.attempts, jobID)
	delete(e.stops, jobID)
	e.mu.Unlock()
}

// run is one attempt of a job as the watch cache sees it.
type run struct {
	ns       string
	attempt  int
	replicas int
	pods     []*corev1.Pod // of this attempt, by replica index; nil where missing
	stop     *stopRecord   // what Stop recorded for this attempt
}

// current reads the job's latest attempt from the watch cache: the attempt
// Start last created (whose pods may not be in the cache yet) or the newest
// one found. ok is false when nothing of it is known.
func (e *Executor) current(ctx context.Context, jobID string) (r run, ok bool, err error) {
	wc, err := e.caches(ctx)
	if err != nil {
		return run{}, false, err
	}
	all := wc.podsOfJob(jobID)
	e.mu.Lock()
	started := e.attempts[jobID]
	r.attempt = started[0]
	r.ns = e.namespaces[jobID]
	stop, stopped := e.stops[jobID]
	e.mu.Unlock()
	for _, p := range all {
		r.attempt = max(r.attempt, atoi(p.Labels[LabelAttempt]))
	}
	if stopped && stop.attempt >= r.attempt {
		r.attempt, r.stop = stop.attempt, &stop
	}
	for _, p := range all {
		if atoi(p.Labels[LabelAttempt]) != r.attempt {
			continue
		}
		r.ns = p.Namespace
		r.replicas = max(r.replicas, atoi(p.Annotations[AnnotationReplicas]))
		if r.stop == nil && p.Annotations[AnnotationStopReason] != "" {
			r.stop = &stopRecord{attempt: r.attempt, reason: p.Annotations[AnnotationStopReason], at: p.Annotations[AnnotationStoppedAt]}
		}
	}
	found := slices.ContainsFunc(all, func(p *corev1.Pod) bool { return atoi(p.Labels[LabelAttempt]) == r.attempt })
	if started[0] > 0 && r.attempt == started[0] {
		// Started by this process: its pods may not have reached the cache.
		found, r.replicas = true, max(r.replicas, started[1])
	}
	if !found && r.stop == nil {
		return run{}, false, nil
	}
	for _, p := range all {
		if atoi(p.Labels[LabelAttempt]) != r.attempt {
			continue
		}
		i := atoi(p.Labels[LabelReplica])
		r.replicas = max(r.replicas, i+1)
		for len(r.pods) <= i {
			r.pods = append(r.pods, nil)
		}
		r.pods[i] = p
	}
	for len(r.pods) < r.replicas {
		r.pods = append(r.pods, nil)
	}
	if r.ns != "" {
		e.remember(jobID, r.ns)
	}
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
