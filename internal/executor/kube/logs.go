package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mlportal/mlportal/internal/fault"
)

// Logs writes the container output of every replica of the job's latest
// attempt to w, each line prefixed "[i] " when there are several replicas.
// Without follow it writes what the replicas that started have logged so
// far; with follow it also waits for replicas still starting and returns
// when every replica's container has ended or ctx is done.
func (e *Executor) Logs(ctx context.Context, jobID string, follow bool, w io.Writer) error {
	r, ok, err := e.current(ctx, jobID)
	if err != nil {
		return err
	}
	if !ok {
		return fault.NotFound("job", jobID)
	}
	out := &lineWriter{w: w}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i := range r.replicas {
		prefix := ""
		if r.replicas > 1 {
			prefix = "[" + strconv.Itoa(i) + "] "
		}
		wg.Go(func() {
			if err := e.replicaLogs(ctx, jobID, r, i, follow, prefix, out); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr == nil && out.err != nil {
		firstErr = fmt.Errorf("kube executor: write logs of job %q: %w", jobID, out.err)
	}
	return firstErr
}

// replicaLogs streams replica i's container log, waiting for it to start
// when following.
func (e *Executor) replicaLogs(ctx context.Context, jobID string, r run, i int, follow bool, prefix string, out *lineWriter) error {
	sel := labels.SelectorFromSet(labels.Set{
		LabelJob: jobID, LabelAttempt: strconv.Itoa(r.attempt), LabelReplica: strconv.Itoa(i),
	}).String()
	var pod *corev1.Pod
	find := func(ctx context.Context) (bool, error) {
		list, err := e.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return false, mapError(err, "list", "pods", r.ns, "")
		}
		pod = nil
		for j := range list.Items {
			if p := &list.Items[j]; started(p) && (pod == nil || p.CreationTimestamp.After(pod.CreationTimestamp.Time)) {
				pod = p
			}
		}
		if pod != nil || !follow {
			return true, nil
		}
		// Following a replica that has not started: stop waiting once its
		// Job has ended without it (stopped, failed to pull, timed out).
		job, err := e.cs.BatchV1().Jobs(r.ns).Get(ctx, replicaName(jobID, r.attempt, i), metav1.GetOptions{})
		if err != nil {
			return false, mapError(err, "get", "jobs", r.ns, replicaName(jobID, r.attempt, i))
		}
		return finished(job) != "" || job.Annotations[AnnotationStopReason] != "", nil
	}
	if err := wait.PollUntilContextCancel(ctx, e.cfg.PollInterval, true, find); err != nil {
		if _, ok := fault.As(err); ok {
			return err
		}
		return fmt.Errorf("kube executor: logs of job %q replica %d: %w", jobID, i, err)
	}
	if pod == nil {
		return nil
	}
	stream, err := e.cs.CoreV1().Pods(r.ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: containerName, Follow: follow}).Stream(ctx)
	if err != nil {
		mapped := mapError(err, "get", "pods/log", r.ns, pod.Name)
		if errors.Is(mapped, fault.ErrUnavailable) {
			return &apiError{op: "get logs of pod " + pod.Name, err: err, safe: fault.New(fault.ErrUnavailable,
				"the logs of replica %d (pod %q on node %q) could not be read; the node's kubelet may be unreachable: retry, "+
					"or read them where the cluster ships container logs", i, pod.Name, pod.Spec.NodeName)}
		}
		return mapped
	}
	defer stream.Close()
	return out.copy(ctx, stream, prefix)
}

// started reports whether the pod's container has run (so it has a log).
func started(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running != nil || cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil {
			return true
		}
	}
	return false
}

// lineWriter writes whole lines from several streams to w, one at a time,
// and remembers the first write error.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (l *lineWriter) copy(ctx context.Context, r io.Reader, prefix string) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if line[len(line)-1] != '\n' {
				line += "\n"
			}
			if !l.write(prefix + line) {
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("kube executor: read logs: %w", err)
		}
	}
}

// write reports whether writing may go on.
func (l *lineWriter) write(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return false
	}
	_, l.err = io.WriteString(l.w, s)
	return l.err == nil
}
