package store

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/mlportal/mlportal/internal/tracking"
)

// TestTrackingSearchWalkMatchesGeneric checks that the metric-ordered walk
// (walkSearch, PostgreSQL's path) and the generic query give the same pages
// and page tokens: ties in the metric and in start_time, NaN, infinities,
// runs without the metric, deleted runs, filters of every kind, and pages
// that end inside each segment, walks cut short by walkFactor, and every
// way of hashing or probing the filters, as well as the plan the
// statistics choose.
func TestTrackingSearchWalkMatchesGeneric(t *testing.T) {
	defer func(f, m int) { walkFactor, walkProbeMask = f, m }(walkFactor, walkProbeMask)
	eachBackend(t, func(t *testing.T, s *Store) {
		if s.driver != Postgres {
			t.Skip("the walk is PostgreSQL's")
		}
		ctx := t.Context()
		e := newExperiment(t, s, "walk")
		other := newExperiment(t, s, "other")
		const n = 60
		for i := range n {
			id := fmt.Sprintf("run%02d", i)
			newRun(t, s, e, id, int64(1000+i/3)) // start_time ties in threes
			b := tracking.Batch{Params: []tracking.Param{{Key: "p", Value: []string{"a", "b", "c"}[i%3]}},
				Metrics: []tracking.Metric{{Key: "x", Value: float64(i%10) / 10, Timestamp: 1}}}
			if i%7 == 0 {
				b.Params = nil
			}
			switch {
			case i%11 == 0: // no m: the last segment
			case i%13 == 0:
				b.Metrics = append(b.Metrics, tracking.Metric{Key: "m", Value: math.NaN(), Timestamp: 1})
			case i%17 == 0:
				b.Metrics = append(b.Metrics, tracking.Metric{Key: "m", Value: math.Inf(1 - 2*(i%2)), Timestamp: 1})
			default:
				b.Metrics = append(b.Metrics, tracking.Metric{Key: "m", Value: float64(i%5) / 4, Timestamp: 1}) // ties in fives
			}
			if err := s.LogBatch(ctx, id, b); err != nil {
				t.Fatal(err)
			}
			if i%9 == 4 {
				if err := s.SetRunStage(ctx, id, tracking.StageDeleted, 5); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A run of another experiment with the same keys must never show.
		newRun(t, s, other, "foreign", 1)
		if err := s.LogBatch(ctx, "foreign", tracking.Batch{Params: []tracking.Param{{Key: "p", Value: "a"}},
			Metrics: []tracking.Metric{{Key: "m", Value: 9, Timestamp: 1}, {Key: "x", Value: 0.5, Timestamp: 1}}}); err != nil {
			t.Fatal(err)
		}
		// Statistics, as autovacuum gathers them: the plan the estimates
		// choose (mask -1 below) is then one of a real server.
		if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		filters := []string{"", "params.p = 'a'", "metrics.x > 0.3", "params.p = 'b' and metrics.x < 0.75",
			"params.p IS NULL", "params.p != 'c'", "attributes.status = 'RUNNING' and params.p LIKE 'a%'", "metrics.x > 5"}
		orders := [][]string{{"metrics.m DESC"}, {"metrics.m ASC"}, {"metrics.m DESC", "params.p ASC"}, {"metrics.m", "attributes.start_time ASC"}}
		for _, filter := range filters {
			f, err := tracking.ParseFilter(filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, order := range orders {
				var obs []tracking.OrderBy
				for _, o := range order {
					ob, err := tracking.ParseOrderBy(o)
					if err != nil {
						t.Fatal(err)
					}
					obs = append(obs, ob)
				}
				for _, view := range []tracking.ViewType{tracking.ViewActiveOnly, tracking.ViewAll} {
					// -1: the plan the estimates choose; 0: hash every
					// filter; 1, 2, 3: probe the first, the second, both.
					masks := []int{-1, 0, 1}
					if len(f) > 1 {
						masks = append(masks, 2, 3)
					}
					for _, mask := range masks {
						for _, page := range []int{1, 4, 7, 100} {
							for _, factor := range []int{1, 100} {
								walkFactor, walkProbeMask = factor, mask
								var walked, generic []string
								tok := ""
								for pages := 0; ; pages++ {
									q := tracking.RunQuery{ExperimentIDs: []string{e.ID}, Filter: f, OrderBy: obs, View: view, MaxResults: page, PageToken: tok}
									w, wNext, err := s.searchRuns(ctx, q, true)
									if err != nil {
										t.Fatalf("walk %q %v: %v", filter, order, err)
									}
									g, gNext, err := s.searchRuns(ctx, q, false)
									if err != nil {
										t.Fatalf("generic %q %v: %v", filter, order, err)
									}
									for _, r := range w {
										walked = append(walked, r.Info.ID)
									}
									for _, r := range g {
										generic = append(generic, r.Info.ID)
									}
									if wNext != gNext {
										t.Fatalf("%q %v page %d of %d: next token %q (walk) != %q (generic)", filter, order, pages, page, wNext, gNext)
									}
									if wNext == "" || pages > n {
										break
									}
									tok = wNext
								}
								if !slices.Equal(walked, generic) {
									t.Fatalf("%q %v view %d pages of %d, walk factor %d, probe mask %d:\nwalk    %v\ngeneric %v", filter, order, view, page, factor, mask, walked, generic)
								}
								if filter == "" && view == tracking.ViewAll && len(walked) != n {
									t.Fatalf("%v: %d runs, want %d", order, len(walked), n)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestChooseWalkPlan checks the walk's cost model on the benchmark's
// estimates (100,000 runs): a filter most runs pass is probed, a rare one
// hashed, and a walk the filters would leave short is not tried.
func TestChooseWalkPlan(t *testing.T) {
	cases := []struct {
		name   string
		rows   []float64 // the metric's runs, then each filter's
		probe  []bool
		order  []int
		walked bool
	}{
		{"the issue's search: rmse < 0.2, model = 'm3'", []float64{100_000, 20_000, 10_000}, []bool{true, false}, []int{1, 0}, true},
		{"a filter 90 % pass", []float64{100_000, 90_000}, []bool{true}, []int{0}, true},
		{"a param a tenth share", []float64{100_000, 10_000}, []bool{false}, []int{0}, true},
		{"200 matches: the generic query", []float64{100_000, 200}, nil, nil, false},
		{"two rare filters, together too rare", []float64{100_000, 5_000, 2_000}, nil, nil, false},
	}
	for _, c := range cases {
		plan, ok := chooseWalkPlan(c.rows, 101)
		if ok != c.walked {
			t.Errorf("%s: walk %v, want %v", c.name, ok, c.walked)
			continue
		}
		if ok && (!slices.Equal(plan.probe, c.probe) || !slices.Equal(plan.order, c.order)) {
			t.Errorf("%s: probe %v order %v, want probe %v order %v", c.name, plan.probe, plan.order, c.probe, c.order)
		}
	}
}
