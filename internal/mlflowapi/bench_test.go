package mlflowapi_test

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
)

// BenchmarkOverHTTP measures the MLflow API in process, through the whole
// request path (authentication, JSON, service, store), on SQLite: the
// operations the load generator's -mode mlflow compares with a real
// `mlflow server`. Run with -cpuprofile to see where a request's CPU goes:
//
//	go test -run '^$' -bench OverHTTP -benchtime 50x -cpuprofile cpu.out ./internal/mlflowapi/
//	go tool pprof -top internal/mlflowapi/mlflowapi.test cpu.out
//
// MLPORTAL_BENCH_RUNS sets the runs seeded for the search (default 2,000;
// seeding goes through the API, about a few hundred runs a second).
func BenchmarkOverHTTP(b *testing.B) {
	runs := 2000
	if n, err := strconv.Atoi(os.Getenv("MLPORTAL_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	p := start(b, false)
	var exp struct {
		ExperimentID string `json:"experiment_id"`
	}
	p.mlflow("POST", "experiments/create", map[string]any{"name": "bench"}, 200, &exp)
	newRun := func(name string) string {
		var run struct {
			Run struct {
				Info struct {
					RunID string `json:"run_id"`
				} `json:"info"`
			} `json:"run"`
		}
		p.mlflow("POST", "runs/create", map[string]any{"experiment_id": exp.ExperimentID, "run_name": name, "start_time": 1}, 200, &run)
		return run.Run.Info.RunID
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				id := newRun(fmt.Sprintf("run-%07d", i))
				p.mlflow("POST", "runs/log-batch", map[string]any{"run_id": id,
					"metrics": []map[string]any{{"key": "rmse", "value": float64(i*7919%1000) / 1000, "timestamp": 1, "step": 0},
						{"key": "accuracy", "value": float64(i*7927%runs) / float64(runs), "timestamp": 1, "step": 0}},
					"params": []map[string]string{{"key": "model", "value": "m" + strconv.Itoa(i%10)}, {"key": "lr", "value": "0.1"}}}, 200, nil)
			}
		})
	}
	for i := range runs {
		next <- i
	}
	close(next)
	wg.Wait()
	p.mlflow("POST", "registered-models/create", map[string]any{"name": "m"}, 200, nil)
	for i := range 500 {
		p.mlflow("POST", "model-versions/create", map[string]any{"name": "m", "source": fmt.Sprintf("s3://bench/m/%d", i)}, 200, nil)
	}

	b.Run("log-batch-1000", func(b *testing.B) {
		id := newRun("log-batch")
		for i := 0; b.Loop(); i++ {
			ms := make([]map[string]any, 0, 1000)
			for k := range 100 {
				for s := range 10 {
					ms = append(ms, map[string]any{"key": "metric_" + strconv.Itoa(k), "value": float64(i*10+s) / 7, "timestamp": 1_700_000_000_000 + i*10 + s, "step": i*10 + s})
				}
			}
			p.mlflow("POST", "runs/log-batch", map[string]any{"run_id": id, "metrics": ms}, 200, nil)
		}
	})
	b.Run("search", func(b *testing.B) {
		body := map[string]any{"experiment_ids": []string{exp.ExperimentID}, "filter": "metrics.rmse < 0.2 and params.model = 'm3'",
			"order_by": []string{"metrics.accuracy DESC"}, "max_results": 100}
		for b.Loop() {
			p.mlflow("POST", "runs/search", body, 200, nil)
		}
	})
	b.Run("versions-page", func(b *testing.B) {
		for b.Loop() {
			p.mlflow("GET", "model-versions/search?filter=name%3D%27m%27&max_results=100", nil, 200, nil)
		}
	})
	b.Run("registered-model-get", func(b *testing.B) {
		for b.Loop() {
			p.mlflow("GET", "registered-models/get?name=m", nil, 200, nil)
		}
	})
}
