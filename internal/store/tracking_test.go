package store

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/tracking"
)

func newExperiment(t *testing.T, s *Store, name string) tracking.Experiment {
	t.Helper()
	e, err := s.CreateExperiment(t.Context(), tracking.Experiment{Name: name, Team: "ml", LifecycleStage: tracking.StageActive,
		CreationTime: 1, LastUpdateTime: 1, Tags: []tracking.Tag{{Key: "mlportal.team", Value: "ml"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newRun(t *testing.T, s *Store, exp tracking.Experiment, id string, start int64) {
	t.Helper()
	err := s.CreateRun(t.Context(), tracking.Run{Info: tracking.RunInfo{ID: id, ExperimentID: exp.ID, Name: "run-" + id, UserID: "u",
		Status: tracking.StatusRunning, StartTime: start, ArtifactURI: exp.ArtifactLocation + "/" + id + "/artifacts",
		LifecycleStage: tracking.StageActive}, Tags: []tracking.Tag{{Key: "mlflow.runName", Value: "run-" + id}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTrackingExperimentsAndRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		def, err := s.GetExperiment(ctx, "0")
		if err != nil || def.Name != "Default" || def.ArtifactLocation != "mlflow-artifacts:/0" {
			t.Fatalf("experiment 0 = %+v, %v", def, err)
		}
		e := newExperiment(t, s, "churn")
		if e.ID != "1" || e.ArtifactLocation != "mlflow-artifacts:/1" {
			t.Fatalf("created %+v", e)
		}
		if _, err := s.CreateExperiment(ctx, tracking.Experiment{Name: "churn", LifecycleStage: "active"}); !errors.Is(err, fault.ErrAlreadyExists) {
			t.Fatalf("duplicate name: %v", err)
		}
		newRun(t, s, e, "r1", 100)
		b := tracking.Batch{
			Params: []tracking.Param{{Key: "alpha", Value: "0.5"}, {Key: "model", Value: "lr"}},
			Tags:   []tracking.Tag{{Key: "mlflow.runName", Value: "renamed"}},
			Metrics: []tracking.Metric{{Key: "rmse", Value: 0.9, Step: 0, Timestamp: 10}, {Key: "rmse", Value: 0.7, Step: 1, Timestamp: 11},
				{Key: "rmse", Value: 0.8, Step: 1, Timestamp: 9}, {Key: "loss", Value: math.NaN(), Step: 0, Timestamp: 10}},
		}
		if err := s.LogBatch(ctx, "r1", b); err != nil {
			t.Fatal(err)
		}
		// Same params again are fine; a changed value is refused.
		if err := s.LogBatch(ctx, "r1", tracking.Batch{Params: []tracking.Param{{Key: "alpha", Value: "0.5"}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.LogBatch(ctx, "r1", tracking.Batch{Params: []tracking.Param{{Key: "alpha", Value: "0.6"}}}); !errors.Is(err, fault.ErrInvalid) {
			t.Fatalf("changed param: %v", err)
		}
		r, err := s.GetRun(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if r.Info.Name != "renamed" || len(r.Params) != 2 || len(r.Metrics) != 2 {
			t.Fatalf("run = %+v", r)
		}
		for _, m := range r.Metrics {
			if m.Key == "rmse" && (m.Value != 0.7 || m.Step != 1) {
				t.Errorf("latest rmse = %+v, want 0.7 at step 1", m)
			}
			if m.Key == "loss" && !math.IsNaN(m.Value) {
				t.Errorf("loss = %v, want NaN", m.Value)
			}
		}
		hist, next, err := s.MetricHistory(ctx, "r1", "rmse", 2, "")
		if err != nil || len(hist) != 2 || next == "" {
			t.Fatalf("history page 1 = %v %q %v", hist, next, err)
		}
		hist2, next2, err := s.MetricHistory(ctx, "r1", "rmse", 2, next)
		if err != nil || len(hist2) != 1 || next2 != "" || hist2[0].Value != 0.7 {
			t.Fatalf("history page 2 = %v %q %v", hist2, next2, err)
		}
	})
}

func TestTrackingSearchRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		e := newExperiment(t, s, "search")
		for i := 0; i < 20; i++ {
			id := fmt.Sprintf("run%02d", i)
			newRun(t, s, e, id, int64(1000+i))
			b := tracking.Batch{Params: []tracking.Param{{Key: "p", Value: []string{"a", "b"}[i%2]}},
				Metrics: []tracking.Metric{{Key: "rmse", Value: float64(i) / 20, Timestamp: 1}}}
			if i == 19 {
				b.Metrics = nil // no rmse: ordered last
			}
			if err := s.LogBatch(ctx, id, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.UpdateRunStatus(ctx, "run04", tracking.StatusFinished); err != nil {
			t.Fatal(err)
		}
		search := func(filter string, order []string, max int, token string) ([]string, string) {
			t.Helper()
			f, err := tracking.ParseFilter(filter)
			if err != nil {
				t.Fatal(err)
			}
			if err := tracking.CheckRunFilter(f); err != nil {
				t.Fatal(err)
			}
			var obs []tracking.OrderBy
			for _, o := range order {
				ob, err := tracking.ParseOrderBy(o)
				if err != nil {
					t.Fatal(err)
				}
				obs = append(obs, ob)
			}
			if err := tracking.CheckRunOrderBy(obs); err != nil {
				t.Fatal(err)
			}
			runs, next, err := s.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: []string{e.ID}, Filter: f, OrderBy: obs,
				View: tracking.ViewActiveOnly, MaxResults: max, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(runs))
			for i, r := range runs {
				ids[i] = r.Info.ID
			}
			return ids, next
		}
		ids, _ := search("metrics.rmse < 0.3 and params.p = 'a'", []string{"metrics.rmse DESC"}, 100, "")
		if fmt.Sprint(ids) != "[run04 run02 run00]" {
			t.Errorf("metric+param filter ordered by rmse DESC = %v", ids)
		}
		ids, _ = search("", nil, 3, "")
		if fmt.Sprint(ids) != "[run19 run18 run17]" {
			t.Errorf("default order (start_time DESC) = %v", ids)
		}
		var all []string
		tok := ""
		for {
			page, next := search("", []string{"metrics.rmse"}, 7, tok)
			all = append(all, page...)
			if next == "" {
				break
			}
			tok = next
		}
		if len(all) != 20 || all[0] != "run00" || all[18] != "run18" || all[19] != "run19" {
			t.Errorf("paged by rmse ASC = %v (run19 has no rmse and goes last)", all)
		}
		ids, _ = search("tags.`mlflow.runName` LIKE 'run-run1%' and attributes.status = 'RUNNING'", []string{"attributes.start_time ASC"}, 100, "")
		if len(ids) != 10 || ids[0] != "run10" {
			t.Errorf("tag LIKE + status = %v", ids)
		}
		ids, _ = search("attributes.status = 'FINISHED'", nil, 100, "")
		if fmt.Sprint(ids) != "[run04]" {
			t.Errorf("status FINISHED = %v", ids)
		}
		ids, _ = search("attributes.run_id IN ('run01', 'run03') and params.p ILIKE 'B'", []string{"params.p ASC", "attributes.run_name DESC"}, 100, "")
		if fmt.Sprint(ids) != "[run03 run01]" {
			t.Errorf("IN + ILIKE = %v", ids)
		}
		ids, _ = search("tags.`mlflow.runName` LIKE 'RUN%'", nil, 100, "")
		if len(ids) != 0 {
			t.Errorf("LIKE must be case-sensitive, got %v", ids)
		}
	})
}
