package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mlportal/mlportal/internal/tracking"
)

// CreateRuns stores what CreateRun would, run by run: the run-name tag names
// the run, a tag given twice keeps its last value; across more rows than
// one INSERT chunk.
func TestCreateRunsMatchesCreateRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		e := newExperiment(t, s, "batch")
		run := func(id string, i int) tracking.Run {
			return tracking.Run{Info: tracking.RunInfo{ID: id, ExperimentID: e.ID, Name: "job-" + fmt.Sprint(i), UserID: "alice",
				Status: tracking.StatusRunning, StartTime: int64(1000 + i), ArtifactURI: "mlflow-artifacts:/x/" + id, LifecycleStage: "active"},
				Tags: []tracking.Tag{{Key: "mlportal.job", Value: "job" + fmt.Sprint(i)}, {Key: "a", Value: "first"},
					{Key: tracking.TagRunName, Value: "named-" + fmt.Sprint(i)}, {Key: "a", Value: "last"}}}
		}
		var batch []tracking.Run
		for i := range 123 {
			batch = append(batch, run(fmt.Sprintf("b%03d", i), i))
		}
		if err := s.CreateRuns(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := s.CreateRun(ctx, run(fmt.Sprintf("o%03d", i), i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			one, err := s.GetRun(ctx, fmt.Sprintf("o%03d", i))
			if err != nil {
				t.Fatal(err)
			}
			many, err := s.GetRun(ctx, fmt.Sprintf("b%03d", i))
			if err != nil {
				t.Fatal(err)
			}
			sortTags := func(ts []tracking.Tag) {
				slices.SortFunc(ts, func(a, b tracking.Tag) int { return strings.Compare(a.Key, b.Key) })
			}
			sortTags(one.Tags)
			sortTags(many.Tags)
			many.Info.ID, many.Info.ArtifactURI = one.Info.ID, one.Info.ArtifactURI
			if !reflect.DeepEqual(one, many) {
				t.Errorf("run %d\nCreateRuns %+v\nCreateRun  %+v", i, many, one)
			}
			if one.Info.Name != fmt.Sprintf("named-%d", i) {
				t.Errorf("run %d named %q, want its run-name tag", i, one.Info.Name)
			}
		}
		if _, err := s.GetRun(ctx, "b122"); err != nil {
			t.Fatalf("the last run of the batch: %v", err)
		}
	})
}
