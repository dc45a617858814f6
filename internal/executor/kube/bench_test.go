package kube_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlportal/mlportal/internal/executor/kube"
	"github.com/mlportal/mlportal/internal/tenancy"
	"github.com/mlportal/mlportal/internal/testenv"
)

var (
	benchMu    sync.Mutex
	benchNodes []string // pool "bench", 8 GPUs each, grown on demand
)

// benchNodesFor returns enough kwok nodes of 8 GPUs for n one-GPU jobs.
func benchNodesFor(b *testing.B, f *fixture, n int) []string {
	benchMu.Lock()
	defer benchMu.Unlock()
	if need := (n+7)/8 - len(benchNodes); need > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		names, err := f.c.AddGPUNodes(ctx, need, testenv.GPUNodeOptions{GPUs: 8, Pool: "bench", Pods: "110"})
		if err != nil {
			b.Fatal(err)
		}
		benchNodes = append(benchNodes, names...)
	}
	return benchNodes
}

// BenchmarkStartToBound starts b.N one-GPU jobs, already placed by the
// scheduler on kwok nodes (8 per node), through Start from 32 goroutines,
// and waits until every pod is bound to its node. It reports jobs/s from the
// first Start to the last pod bound, to the last pod created by the Job
// controller, and Start calls/s alone.
//
//	MLPORTAL_TESTENV_BIN=… go test -run '^$' -bench StartToBound -benchtime 1000x ./internal/executor/kube/
func BenchmarkStartToBound(b *testing.B) {
	f := cluster(b)
	nodes := benchNodesFor(b, f, b.N)
	team, project := f.projectWith(b, tenancy.Quota{CPU: "100000", Memory: "100Ti", GPUs: b.N, Pods: b.N, Storage: "1Ti", PVCs: 5})
	ns := tenancy.NamespaceName(team, project)
	e := kube.New(f.cs, kube.Config{PodAnnotations: runFor("1h")}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	run := fmt.Sprintf("b%d", time.Now().UnixNano())

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				s := spec(team, project, fmt.Sprintf("%s-%d", run, i), 1, nodes[i/8])
				s.CPUMillis, s.MemoryBytes = 100, 256<<20
				if err := e.Start(ctx, s); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	submitted := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatalf("Start: %v", err)
	}
	var created time.Duration
	poll(b, ctx, "every pod to be bound", func(ctx context.Context) (bool, error) {
		pods, err := f.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		bound := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		if created == 0 && len(pods.Items) == b.N {
			created = time.Since(start)
		}
		return bound == b.N, nil
	})
	bound := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/bound.Seconds(), "jobs-bound/s")
	b.ReportMetric(float64(b.N)/created.Seconds(), "pods-created/s")
	b.ReportMetric(float64(b.N)/submitted.Seconds(), "starts/s")
}
