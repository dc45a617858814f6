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
	name := replicaName(jobID, r.attempt, i)
	var pod *corev1.Pod
	find := func(ctx context.Context) (bool, error) {
		cur, ok, err := e.current(ctx, jobID)
		if err != nil {
			return false, err
		}
		pod = nil
		if ok && cur.attempt == r.attempt && i < len(cur.pods) && cur.pods[i] != nil && cur.pods[i].Name == name && started(cur.pods[i]) {
			pod = cur.pods[i]
		}
		if pod != nil || !follow {
			return true, nil
		}
		// Following a replica that has not started: stop waiting once the
		// attempt has ended without it (stopped, failed to pull, timed out,
		// cleaned up).
		if !ok || cur.attempt != r.attempt {
			return true, nil
		}
		return cur.stop != nil || derive(jobID, cur, e.cfg.Clock.Now()).Phase.Final(), nil
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
