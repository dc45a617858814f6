package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/executor/kube"
)

// The k8s-jobs mode (-mode k8s-jobs) measures scheduling throughput on a
// real control plane whose nodes kwok simulates: -nodes GPU nodes, then
// -jobs one-GPU jobs, once per path (-paths) over the same nodes.
//
//   - mlportal: the server binary with the kubernetes executor; -teams
//     teams, each with a GPU quota and one project whose namespace quota
//     holds the same GPUs; the jobs are POSTed to /api/v1/jobs by
//     -concurrency workers, round-robin over the teams.
//   - default: the same jobs as batch/v1 Jobs (1 GPU each) sent straight to
//     the apiserver into -teams namespaces with a ResourceQuota of the same
//     GPUs, left to kube-controller-manager and kube-scheduler.
//   - pods: the apiserver's ceiling for the same work — the load generator
//     creates each job's pod itself, already bound to a node, into
//     namespaces with the same quota: what no scheduler can beat here.
//
// Each measures, from a pod watch, submission → every pod bound
// (spec.nodeName), as jobs per second, and each job's submit → bound
// latency. Every 200ms it sums the GPUs of the bound, unfinished pods per
// namespace (one team per namespace) and counts samples above the quota
// (violations). It checks that every job got exactly one pod and that all
// were bound. Pods run until the phase ends (kwok's delay annotation, one
// hour), so the jobs must fit: nodes get max(8, ⌈jobs/nodes⌉ rounded up to
// a multiple of 8) GPUs.

// kscaleLabel marks what the mode creates, valued by run.
const kscaleLabel = "loadgen.mlportal.io/run"

// k8sResult is one path's measurement.
type k8sResult struct {
	path                 string
	jobs, bound, extra   int // extra: jobs with more than one pod
	wall                 time.Duration
	p50, p95, max        time.Duration
	submitWall           time.Duration // until the last submission returned
	samples, violations  int
	maxUsePerQuota, hard int
}

func (r k8sResult) rate() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(r.bound) / r.wall.Seconds()
}

// k8sPlan sizes a run.
type k8sPlan struct {
	run                     string
	nodes, gpusPerNode      int
	jobs, teams, perTeamGPU int
}

func newPlan(o options) k8sPlan {
	gpn := max(8, (o.jobs+o.nodes-1)/o.nodes)
	gpn = (gpn + 7) / 8 * 8
	total := gpn * o.nodes
	return k8sPlan{run: randomHex(3), nodes: o.nodes, gpusPerNode: gpn, jobs: o.jobs, teams: o.teams, perTeamGPU: total / o.teams}
}

// k8sJobsMain is the mode's entry point from the command line.
func k8sJobsMain(ctx context.Context, o options) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("-kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	p := newPlan(o)
	nodes, err := addKwokNodes(ctx, cs, p)
	if err != nil {
		return err
	}
	rs, err := runK8sJobs(ctx, o, cs, p, nodes)
	printK8s(os.Stdout, o, p, rs)
	if err == nil && o.markdown != "" {
		err = writeK8sMarkdown(o, p, rs)
	}
	if err != nil {
		return err
	}
	return checkK8s(p, rs)
}

// addKwokNodes creates the run's GPU nodes for kwok and waits until they
// are Ready.
func addKwokNodes(ctx context.Context, cs kubernetes.Interface, p k8sPlan) ([]string, error) {
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("256"), corev1.ResourceMemory: resource.MustParse("2Ti"),
		corev1.ResourcePods: resource.MustParse("250"), "nvidia.com/gpu": *resource.NewQuantity(int64(p.gpusPerNode), resource.DecimalSI)}
	names := make([]string, p.nodes)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < p.nodes; i = int(next.Add(1)) - 1 {
				names[i] = fmt.Sprintf("kscale-%s-%05d", p.run, i)
				n := &corev1.Node{
					ObjectMeta: metav1.ObjectMeta{Name: names[i], Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
						Labels: map[string]string{kscaleLabel: p.run, "type": "kwok", "mlportal.io/gpu-type": "a100", corev1.LabelHostname: names[i]}},
					Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}},
					Status: corev1.NodeStatus{Capacity: res, Allocatable: res},
				}
				if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create node %s: %w", names[i], err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs: %d nodes with %d GPUs created; waiting until Ready\n", p.nodes, p.gpusPerNode)
	err := wait.PollUntilContextTimeout(ctx, time.Second, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: kscaleLabel + "=" + p.run, ResourceVersion: "0"})
		if err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		ready := 0
		for i := range list.Items {
			if nodeReady(&list.Items[i]) {
				ready++
			}
		}
		return ready == p.nodes, nil
	})
	if err != nil {
		return names, fmt.Errorf("the run's kwok nodes did not become Ready (is kwok running with --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake?): %w", err)
	}
	return names, nil
}

func nodeReady(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// runK8sJobs measures both paths, mlportal first, over the plan's nodes.
func runK8sJobs(ctx context.Context, o options, cs kubernetes.Interface, p k8sPlan, nodes []string) ([]k8sResult, error) {
	var rs []k8sResult
	if slices.Contains(o.paths, "mlportal") {
		r, err := mlportalPath(ctx, o, cs, p)
		rs = append(rs, r)
		if err != nil {
			return rs, fmt.Errorf("mlportal path: %w", err)
		}
	}
	if slices.Contains(o.paths, "default") {
		r, err := defaultPath(ctx, o, cs, p)
		rs = append(rs, r)
		if err != nil {
			return rs, fmt.Errorf("default path: %w", err)
		}
	}
	if slices.Contains(o.paths, "executor") {
		r, err := executorPath(ctx, o, cs, p, nodes)
		rs = append(rs, r)
		if err != nil {
			return rs, fmt.Errorf("executor path: %w", err)
		}
	}
	if slices.Contains(o.paths, "pods") {
		r, err := podsPath(ctx, o, cs, p, nodes)
		rs = append(rs, r)
		if err != nil {
			return rs, fmt.Errorf("pods path: %w", err)
		}
	}
	return rs, nil
}

// watcher follows the pods of one path: when each was bound, how many
// pods each job has, and the GPUs bound per namespace.
type watcher struct {
	key      string // the label naming a pod's job
	inf      cache.SharedIndexInformer
	mu       sync.Mutex
	boundAt  map[string]time.Time
	pods     map[string]map[string]bool // job → pod names
	stopOnce sync.Once
	stop     chan struct{}
}

func watchPods(cs kubernetes.Interface, selector, key string) (*watcher, error) {
	w := &watcher{key: key, boundAt: map[string]time.Time{}, pods: map[string]map[string]bool{}, stop: make(chan struct{})}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	w.inf = f.Core().V1().Pods().Informer()
	seen := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		job := pod.Labels[key]
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.pods[job] == nil {
			w.pods[job] = map[string]bool{}
		}
		w.pods[job][pod.Name] = true
		if _, ok := w.boundAt[job]; !ok && pod.Spec.NodeName != "" {
			w.boundAt[job] = now
		}
	}
	if _, err := w.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: seen, UpdateFunc: func(_, n any) { seen(n) }}); err != nil {
		return nil, err
	}
	f.Start(w.stop)
	if !cache.WaitForCacheSync(w.stop, w.inf.HasSynced) {
		return nil, errors.New("pod watch did not sync")
	}
	return w, nil
}

func (w *watcher) close() { w.stopOnce.Do(func() { close(w.stop) }) }

func (w *watcher) bound() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.boundAt)
}

// gpusByNamespace sums the GPU requests of bound pods that still hold
// their node.
func (w *watcher) gpusByNamespace() map[string]int {
	use := map[string]int{}
	for _, obj := range w.inf.GetStore().List() {
		pod := obj.(*corev1.Pod)
		if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, c := range pod.Spec.Containers {
			q := c.Resources.Requests["nvidia.com/gpu"]
			use[pod.Namespace] += int(q.Value())
		}
	}
	return use
}

// every calls fn every d until ctx ends, done is closed or fn returns
// false.
func every(ctx context.Context, done <-chan struct{}, d time.Duration, fn func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-t.C:
			if !fn() {
				return
			}
		}
	}
}

// progress prints every 5 s how many pods are bound, until done.
func progress(ctx context.Context, done <-chan struct{}, w *watcher, path string, start time.Time) {
	every(ctx, done, 5*time.Second, func() bool {
		fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs %s: %d bound after %s\n", path, w.bound(), time.Since(start).Round(time.Second))
		return true
	})
}

// measure submits the jobs with submit (job i → its key and submit time)
// and waits until every job's pod is bound, sampling the quota use.
func measure(ctx context.Context, o options, p k8sPlan, w *watcher, path string, submit func(ctx context.Context, i int) (string, error)) (k8sResult, error) {
	r := k8sResult{path: path, jobs: p.jobs, hard: p.perTeamGPU}
	submitted := make(map[string]time.Time, p.jobs)
	var mu sync.Mutex
	var firstErr error
	var next atomic.Int64
	done := make(chan struct{})
	sampler := make(chan struct{})
	go func() { // quota samples
		defer close(sampler)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			r.samples++
			for _, use := range w.gpusByNamespace() {
				r.maxUsePerQuota = max(r.maxUsePerQuota, use)
				if use > p.perTeamGPU {
					r.violations++
				}
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < p.jobs && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				t0 := time.Now()
				key, err := submit(ctx, i)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("submit job %d: %w", i, err)
					}
				} else {
					submitted[key] = t0
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.submitWall = time.Since(start)
	fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs %s: %d jobs submitted in %s, %d bound so far; waiting for every pod to be bound\n",
		path, len(submitted), r.submitWall.Round(time.Millisecond), w.bound())
	go progress(ctx, done, w, path, start)
	err := firstErr
	if err == nil {
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, o.boundTimeout, true, func(context.Context) (bool, error) {
			return w.bound() >= len(submitted), nil
		})
		if err != nil {
			err = fmt.Errorf("%d of %d jobs bound after %s: %w", w.bound(), len(submitted), o.boundTimeout, err)
		}
	}
	close(done)
	<-sampler
	w.mu.Lock()
	defer w.mu.Unlock()
	var lat []time.Duration
	var last time.Time
	for key, t0 := range submitted {
		if b, ok := w.boundAt[key]; ok {
			lat = append(lat, b.Sub(t0))
			if b.After(last) {
				last = b
			}
		}
		if len(w.pods[key]) > 1 {
			r.extra++
		}
	}
	r.bound = len(lat)
	if !last.IsZero() {
		r.wall = last.Sub(start)
	}
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		r.p50, r.p95, r.max = median(lat), lat[(n*95+99)/100-1], lat[n-1]
	}
	// Now, before the path cleans up (deleting 10,000 pods takes minutes).
	fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs %s measured: %.1f jobs/s %v\n", path, r.rate(), r.row())
	return r, err
}

// mlportalPath runs the jobs through mlportal's API and scheduler.
func mlportalPath(ctx context.Context, o options, cs kubernetes.Interface, p k8sPlan) (res k8sResult, err error) {
	// Each project's namespace must hold its team's share of the jobs: the
	// default quota (50 pods, 32 CPUs) would refuse the 51st pod, which the
	// executor reports as "no quota left" and the job fails after its retries.
	perTeam := (p.jobs + p.teams - 1) / p.teams
	// The pods run for an hour in kwok, as the default path's do.
	workers := ""
	if o.startWorkers > 0 {
		workers = fmt.Sprintf("    startWorkers: %d\n", o.startWorkers)
	}
	o.extraConfig = "  jobs:\n    executor: kubernetes\n" + workers + "    kubernetes:\n      podAnnotations:\n" +
		"        pod-complete.stage.kwok.x-k8s.io/delay: 1h\n        pod-complete.stage.kwok.x-k8s.io/jitter-delay: 1h\n" + fmt.Sprintf(
		"  projects:\n    defaultQuota:\n      pods: %d\n      cpu: %q\n      memory: %q\n", perTeam+10, fmt.Sprint(perTeam/10+10), fmt.Sprintf("%dGi", perTeam/8+16))
	srv, err := startServer(ctx, o, o.backends[0])
	if err != nil {
		return k8sResult{path: "mlportal"}, err
	}
	stopped := false
	defer func() {
		if !stopped {
			err = errors.Join(err, srv.stop())
		}
	}()
	// A server that exits (or is killed) ends the measurement at once.
	outer := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case werr := <-srv.exited:
			srv.exited <- werr // for stop
			cancel(fmt.Errorf("the mlportal server exited during the measurement (%v); its log: %s", werr, srv.logPath))
		case <-ctx.Done():
		}
	}()
	c := newClient(srv.url, o.concurrency+1)
	if err := c.login(ctx, srv.adminToken); err != nil {
		return k8sResult{path: "mlportal"}, err
	}
	teams := make([]string, p.teams)
	var wg sync.WaitGroup
	errs := make([]error, p.teams)
	for i := range p.teams {
		teams[i] = fmt.Sprintf("ks%s-t%02d", p.run, i)
		wg.Go(func() {
			body := fmt.Appendf(nil, `{"name":%q,"gpuQuota":[{"gpuType":"a100","nominal":%d,"borrowingLimit":0}]}`, teams[i], p.perTeamGPU)
			if st, err := c.do(ctx, http.MethodPost, "/api/v1/teams", c.bearer, body, nil); err != nil || st != http.StatusCreated {
				errs[i] = fmt.Errorf("create team %s: status %d: %v", teams[i], st, err)
				return
			}
			errs[i] = c.project(ctx, teams[i], "train", p.perTeamGPU)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return k8sResult{path: "mlportal"}, err
	}
	w, err := watchPods(cs, "mlportal.io/job", "mlportal.io/job")
	if err != nil {
		return k8sResult{path: "mlportal"}, err
	}
	defer w.close()
	go watchFailedJobs(ctx, c, cancel)
	fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs mlportal: %d teams ready; submitting %d jobs with %d workers\n", p.teams, p.jobs, o.concurrency)
	res, err = measure(ctx, o, p, w, "mlportal", func(ctx context.Context, i int) (string, error) {
		body := fmt.Appendf(nil, `{"team":%q,"project":"train","gpus":1,"gpuType":"a100","cpu":"100m","memory":"128Mi","image":"busybox","command":["sleep","3600"]}`,
			teams[i%p.teams])
		var out struct{ ID string }
		st, err := c.do(ctx, http.MethodPost, "/api/v1/jobs", c.bearer, body, &out)
		if err != nil || st != http.StatusCreated {
			return "", fmt.Errorf("POST /api/v1/jobs: status %d: %v", st, err)
		}
		return out.ID, nil
	})
	if cause := context.Cause(ctx); err != nil && cause != nil && outer.Err() == nil {
		err = cause
	}
	// Free the nodes for the other paths: stop mlportal, delete its pods.
	stopped, srv.keepLog = true, srv.keepLog || err != nil
	err = errors.Join(err, srv.stop())
	// One namespace at a time, the apiserver deletes a collection pod by
	// pod: 10,000 pods took minutes. All namespaces at once.
	derrs := make([]error, len(teams))
	var dwg sync.WaitGroup
	for i, t := range teams {
		dwg.Go(func() {
			derrs[i] = cs.CoreV1().Pods(t+"-train").DeleteCollection(outer, metav1.DeleteOptions{GracePeriodSeconds: new(int64)},
				metav1.ListOptions{LabelSelector: "mlportal.io/job"})
		})
	}
	dwg.Wait()
	return res, errors.Join(err, errors.Join(derrs...), waitNoPods(outer, cs, "mlportal.io/job"))
}

// project creates a team's project with a namespace quota of gpus GPUs and
// waits until it has succeeded.
func (c *client) project(ctx context.Context, team, name string, gpus int) error {
	body := fmt.Appendf(nil, `{"team":%q,"name":%q,"template":"training","quota":{"gpus":%d}}`, team, name, gpus)
	var p struct{ ID, Status string }
	if st, err := c.do(ctx, http.MethodPost, "/api/v1/projects", c.bearer, body, &p); err != nil || st != http.StatusCreated {
		return fmt.Errorf("POST /api/v1/projects %s/%s: status %d: %v", team, name, st, err)
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if st, err := c.do(ctx, http.MethodGet, "/api/v1/projects/"+p.ID, c.bearer, nil, &p); err != nil || st != http.StatusOK {
			return false, fmt.Errorf("GET /api/v1/projects/%s: status %d: %v", p.ID, st, err)
		}
		if p.Status == "failed" {
			return false, fmt.Errorf("project %s/%s failed", team, name)
		}
		return p.Status == "succeeded", nil
	})
}

// waitNoPods waits until no pod the selector picks is left.
func waitNoPods(ctx context.Context, cs kubernetes.Interface, selector string) error {
	return wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 15*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: selector, Limit: 1})
		return err == nil && len(list.Items) == 0, nil
	})
}

// quotaNamespaces creates one namespace per team for path, each with a
// ResourceQuota of the team's GPUs, and waits until pods can be made there.
func quotaNamespaces(ctx context.Context, cs kubernetes.Interface, p k8sPlan, path string) ([]string, error) {
	nss := make([]string, p.teams)
	for i := range p.teams {
		nss[i] = fmt.Sprintf("ks%s-%s-%02d", p.run, path, i)
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nss[i], Labels: map[string]string{kscaleLabel: p.run}}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return nss, err
		}
		q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "gpus"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			"requests.nvidia.com/gpu": *resource.NewQuantity(int64(p.perTeamGPU), resource.DecimalSI)}}}
		if _, err := cs.CoreV1().ResourceQuotas(nss[i]).Create(ctx, q, metav1.CreateOptions{}); err != nil {
			return nss, err
		}
	}
	// Pods are refused until the namespace's service account exists.
	for _, ns := range nss {
		if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		}); err != nil {
			return nss, fmt.Errorf("namespace %s has no default service account: %w", ns, err)
		}
	}
	return nss, nil
}

// deleteNamespaces leaves nothing of a path behind.
func deleteNamespaces(ctx context.Context, cs kubernetes.Interface, nss []string) error {
	var err error
	for _, ns := range nss {
		if derr := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); derr != nil {
			err = errors.Join(err, derr)
		}
	}
	return err
}

// onePodSpec is a one-GPU pod that runs for an hour in kwok.
func onePodSpec(labels map[string]string) (metav1.ObjectMeta, corev1.PodSpec) {
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1"), corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
	return metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"pod-complete.stage.kwok.x-k8s.io/delay": "1h",
			"pod-complete.stage.kwok.x-k8s.io/jitter-delay": "1h"}},
		corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Tolerations: []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists}},
			Containers:  []corev1.Container{{Name: "job", Image: "busybox", Command: []string{"sleep", "3600"}, Resources: corev1.ResourceRequirements{Requests: gpu, Limits: gpu}}}}
}

// podsPath is the apiserver's own ceiling for this work: the load
// generator creates each job's pod itself, already bound (spec.nodeName,
// round-robin over the nodes), into namespaces with the same
// ResourceQuota — no scheduler, no controller, no mlportal.
func podsPath(ctx context.Context, o options, cs kubernetes.Interface, p k8sPlan, nodes []string) (k8sResult, error) {
	key := "loadgen.mlportal.io/pod"
	nss, err := quotaNamespaces(ctx, cs, p, "pods")
	if err != nil {
		return k8sResult{path: "pods"}, errors.Join(err, deleteNamespaces(ctx, cs, nss))
	}
	w, err := watchPods(cs, key, key)
	if err != nil {
		return k8sResult{path: "pods"}, err
	}
	defer w.close()
	fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs pods: creating %d bound pods with %d workers\n", p.jobs, o.concurrency)
	res, err := measure(ctx, o, p, w, "pods", func(ctx context.Context, i int) (string, error) {
		name := "pod-" + strconv.Itoa(i)
		meta, spec := onePodSpec(map[string]string{key: name, kscaleLabel: p.run})
		meta.Name, spec.NodeName = name, nodes[i%len(nodes)]
		_, err := cs.CoreV1().Pods(nss[i%p.teams]).Create(ctx, &corev1.Pod{ObjectMeta: meta, Spec: spec}, metav1.CreateOptions{})
		return name, err
	})
	err = errors.Join(err, deleteNamespaces(ctx, cs, nss))
	return res, errors.Join(err, waitNoPods(ctx, cs, key))
}

// executorPath is mlportal's Kubernetes executor alone, without the server,
// its store and its scheduler: the load generator starts each job through
// kube.Executor.Start with the spec the server would send (its labels,
// environment and a token-sized secret), placed round-robin over the nodes,
// into namespaces with the same quota. Between the pods path and the
// mlportal path it tells what the executor's pods cost the apiserver from
// what the rest of mlportal costs.
func executorPath(ctx context.Context, o options, cs kubernetes.Interface, p k8sPlan, nodes []string) (k8sResult, error) {
	key := "loadgen.mlportal.io/executor"
	nss, err := quotaNamespaces(ctx, cs, p, "executor")
	if err != nil {
		return k8sResult{path: "executor"}, errors.Join(err, deleteNamespaces(ctx, cs, nss))
	}
	w, err := watchPods(cs, key, key)
	if err != nil {
		return k8sResult{path: "executor"}, err
	}
	defer w.close()
	ex := kube.New(cs, kube.Config{ServiceAccount: "default", Binding: kube.BindByMlportal,
		Namespace:      func(team, _ string) string { return team }, // the team is the namespace here
		PodAnnotations: map[string]string{"pod-complete.stage.kwok.x-k8s.io/delay": "1h", "pod-complete.stage.kwok.x-k8s.io/jitter-delay": "1h"}},
		slog.New(slog.DiscardHandler))
	defer ex.Close()
	token := strings.Repeat("t", 43)
	fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs executor: starting %d jobs with %d workers\n", p.jobs, o.concurrency)
	res, err := measure(ctx, o, p, w, "executor", func(ctx context.Context, i int) (string, error) {
		id := fmt.Sprintf("job_%020d", i)
		env := map[string]string{"MLPORTAL_JOB_ID": id, "MLPORTAL_RUN_ID": id, "MLPORTAL_PROJECT": "train", "MLPORTAL_TEAM": nss[i%p.teams],
			"MLPORTAL_URL": "http://mlportal.example:8080", "MLFLOW_TRACKING_URI": "http://mlportal.example:8080",
			"MLFLOW_EXPERIMENT_ID": "1", "MLFLOW_EXPERIMENT_NAME": nss[i%p.teams] + "/train", "MLFLOW_RUN_ID": fmt.Sprintf("%032x", i),
			"MLPORTAL_ARTIFACT_URI": "mlflow-artifacts:/1/" + fmt.Sprintf("%032x", i) + "/artifacts",
			"MLPORTAL_TOKEN":        token, "MLFLOW_TRACKING_TOKEN": token}
		err := ex.Start(ctx, executor.Spec{JobID: id, Team: nss[i%p.teams], Project: "train", Attempt: 1, Image: "busybox",
			Command: []string{"sleep", "3600"}, Env: env, CheckpointDir: "/ckpt/" + id, GPUs: 1, GPUType: "a100", CPUMillis: 100,
			MemoryBytes: 128 << 20, Replicas: 1, Nodes: []string{nodes[i%len(nodes)]}, Labels: map[string]string{key: id, kscaleLabel: p.run}})
		return id, err
	})
	err = errors.Join(err, deleteNamespaces(ctx, cs, nss))
	return res, errors.Join(err, waitNoPods(ctx, cs, key))
}

// defaultPath sends the jobs as batch/v1 Jobs straight to the apiserver.
func defaultPath(ctx context.Context, o options, cs kubernetes.Interface, p k8sPlan) (k8sResult, error) {
	key := "loadgen.mlportal.io/job"
	nss, err := quotaNamespaces(ctx, cs, p, "default")
	if err != nil {
		return k8sResult{path: "default"}, errors.Join(err, deleteNamespaces(ctx, cs, nss))
	}
	w, err := watchPods(cs, key, key)
	if err != nil {
		return k8sResult{path: "default"}, err
	}
	defer w.close()
	fmt.Fprintf(os.Stderr, "loadgen: k8s-jobs default: submitting %d Jobs with %d workers\n", p.jobs, o.concurrency)
	res, err := measure(ctx, o, p, w, "default", func(ctx context.Context, i int) (string, error) {
		name := "job-" + strconv.Itoa(i)
		l := map[string]string{key: name, kscaleLabel: p.run}
		meta, spec := onePodSpec(l)
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l},
			Spec: batchv1.JobSpec{BackoffLimit: new(int32), Template: corev1.PodTemplateSpec{ObjectMeta: meta, Spec: spec}}}
		_, err := cs.BatchV1().Jobs(nss[i%p.teams]).Create(ctx, job, metav1.CreateOptions{})
		return name, err
	})
	return res, errors.Join(err, deleteNamespaces(ctx, cs, nss))
}

// checkK8s fails a run that lost, duplicated or over-admitted a job.
func checkK8s(p k8sPlan, rs []k8sResult) error {
	var errs []error
	for _, r := range rs {
		if r.bound != p.jobs || r.extra != 0 || r.violations != 0 {
			errs = append(errs, fmt.Errorf("%s: %d of %d jobs bound, %d with more than one pod, %d quota violations",
				r.path, r.bound, p.jobs, r.extra, r.violations))
		}
	}
	return errors.Join(errs...)
}

func (r k8sResult) row() []string {
	return []string{r.path, strconv.Itoa(r.jobs), strconv.Itoa(r.bound), fmt.Sprintf("%.1f", r.rate()), r.wall.Round(time.Millisecond).String(),
		r.submitWall.Round(time.Millisecond).String(), ms(r.p50), ms(r.p95), ms(r.max),
		fmt.Sprintf("%d/%d", r.violations, r.samples), fmt.Sprintf("%d/%d", r.maxUsePerQuota, r.hard), strconv.Itoa(r.extra)}
}

var k8sHeader = []string{"path", "jobs", "bound", "jobs/s", "wall (submit → all bound)", "submit wall", "p50 submit → bound", "p95", "max",
	"quota violations / samples", "peak GPUs / quota", "jobs with >1 pod"}

func printK8s(w io.Writer, o options, p k8sPlan, rs []k8sResult) {
	fmt.Fprintf(w, "k8s-jobs: %d kwok nodes × %d GPUs, %d one-GPU jobs over %d teams (%d GPUs each), %d submitters\n",
		p.nodes, p.gpusPerNode, p.jobs, p.teams, p.perTeamGPU, o.concurrency)
	fmt.Fprintln(w, k8sHeader)
	for _, r := range rs {
		fmt.Fprintln(w, r.row())
	}
	for _, r := range rs[1:] {
		if rs[0].path == "mlportal" && r.rate() > 0 {
			fmt.Fprintf(w, "mlportal / %s: %.2f×\n", r.path, rs[0].rate()/r.rate())
		}
	}

}

func writeK8sMarkdown(o options, p k8sPlan, rs []k8sResult) error {
	f, err := os.Create(o.markdown)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "%d kwok nodes × %d GPUs, %d one-GPU jobs over %d teams (%d GPUs each), %d submitters\n\n",
		p.nodes, p.gpusPerNode, p.jobs, p.teams, p.perTeamGPU, o.concurrency)
	fmt.Fprint(f, "|")
	for _, h := range k8sHeader {
		fmt.Fprintf(f, " %s |", h)
	}
	fmt.Fprint(f, "\n|")
	for range k8sHeader {
		fmt.Fprint(f, "---|")
	}
	fmt.Fprintln(f)
	for _, r := range rs {
		fmt.Fprint(f, "|")
		for _, c := range r.row() {
			fmt.Fprintf(f, " %s |", c)
		}
		fmt.Fprintln(f)
	}
	return nil
}

// watchFailedJobs ends the measurement as soon as a job has failed: its pod
// would never be bound, and the wait would last until its timeout.
func watchFailedJobs(ctx context.Context, c *client, cancel context.CancelCauseFunc) {
	every(ctx, nil, 2*time.Second, func() bool {
		var out struct {
			Items []struct{ ID, Reason string } `json:"items"`
		}
		st, err := c.do(ctx, http.MethodGet, "/api/v1/jobs?state=failed&limit=1", c.bearer, nil, &out)
		if err != nil || st != http.StatusOK || len(out.Items) == 0 {
			return true
		}
		cancel(fmt.Errorf("job %s failed: %s", out.Items[0].ID, out.Items[0].Reason))
		return false
	})
}
