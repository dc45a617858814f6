package store

import (
	"fmt"
	"math"
	"testing"

	"github.com/mlportal/mlportal/internal/tracking"
)

// TestTrackingLogBatchDuplicates checks MLflow's answer to a value logged
// twice — ignored, kept once in the history — on both backends, including
// PostgreSQL's COPY path and its fall back to INSERT: a batch sent again
// (a client's retry), a batch repeating a value within itself, a batch
// mixing new and old values, and a NaN.
func TestTrackingLogBatchDuplicates(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		e := newExperiment(t, s, "dup")
		newRun(t, s, e, "run", 1)
		m := func(key string, step int64, v float64) tracking.Metric {
			return tracking.Metric{Key: key, Value: v, Step: step, Timestamp: 10 + step}
		}
		first := []tracking.Metric{m("loss", 0, 1), m("loss", 1, 0.5), m("acc", 0, math.NaN())}
		for range 2 { // the same batch twice
			if err := s.LogBatch(ctx, "run", tracking.Batch{Metrics: first}); err != nil {
				t.Fatal(err)
			}
		}
		// Repeated within the batch, and mixed with an old value.
		if err := s.LogBatch(ctx, "run", tracking.Batch{Metrics: []tracking.Metric{m("loss", 2, 0.25), m("loss", 2, 0.25), m("loss", 0, 1), m("acc", 0, math.NaN())}}); err != nil {
			t.Fatal(err)
		}
		// Only new values: the COPY path again after a fall back.
		if err := s.LogBatch(ctx, "run", tracking.Batch{Metrics: []tracking.Metric{m("loss", 3, 0.125), m("acc", 1, 0.9)}}); err != nil {
			t.Fatal(err)
		}
		hist, _, err := s.MetricHistory(ctx, "run", "loss", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(hist); len(hist) != 4 || hist[0].Value != 1 || hist[3].Value != 0.125 {
			t.Errorf("loss history = %s, want steps 0–3 once each", got)
		}
		acc, _, err := s.MetricHistory(ctx, "run", "acc", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(acc) != 2 || !math.IsNaN(acc[0].Value) || acc[1].Value != 0.9 {
			t.Errorf("acc history = %v, want NaN at step 0 and 0.9 at step 1", acc)
		}
		r, err := s.GetRun(ctx, "run")
		if err != nil {
			t.Fatal(err)
		}
		latest := map[string]float64{}
		for _, lm := range r.Metrics {
			latest[lm.Key] = lm.Value
		}
		if latest["loss"] != 0.125 || latest["acc"] != 0.9 {
			t.Errorf("latest = %v, want loss 0.125 and acc 0.9", latest)
		}
	})
}
