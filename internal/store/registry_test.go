package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/tracking"
)

func TestRegistryVersionsAliasesHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if err := s.CreateRegisteredModel(ctx, modelregistry.RegisteredModel{Name: "churn", Team: "ml", CreationTime: 1, LastUpdatedTime: 1,
			Tags: []tracking.Tag{{Key: "mlportal.team", Value: "ml"}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateRegisteredModel(ctx, modelregistry.RegisteredModel{Name: "churn", Team: "ml"}); !errors.Is(err, fault.ErrAlreadyExists) {
			t.Fatalf("duplicate: %v", err)
		}
		for i := 1; i <= 3; i++ {
			v, err := s.CreateModelVersion(ctx, modelregistry.ModelVersion{Name: "churn", CreationTime: int64(i), LastUpdatedTime: int64(i),
				CurrentStage: "None", Source: "runs:/r/model", StorageLocation: "mlflow-artifacts:/1/r/artifacts/model", RunID: fmt.Sprint("r", i), Status: "READY",
				Tags: []tracking.Tag{{Key: "mlportal.reason", Value: fmt.Sprint("v", i)}}},
				modelregistry.Event{Model: "churn", Kind: modelregistry.EventVersionCreated, Actor: "alice", Time: int64(i)})
			if err != nil || v.Version != int64(i) {
				t.Fatalf("version %d: %+v %v", i, v, err)
			}
		}
		ev := modelregistry.Event{Model: "churn", Kind: modelregistry.EventStage, Version: 1, To: "Production", Actor: "alice", Time: 10}
		if err := s.TransitionStage(ctx, "churn", 1, "Production", false, ev); err != nil {
			t.Fatal(err)
		}
		ev.Version, ev.Time = 2, 11
		if err := s.TransitionStage(ctx, "churn", 2, "Production", true, ev); err != nil {
			t.Fatal(err)
		}
		a := modelregistry.Event{Model: "churn", Kind: modelregistry.EventAlias, Alias: "champion", Version: 2, To: "2", Actor: "alice", Time: 12, Reason: "better auc"}
		if err := s.SetAlias(ctx, "churn", "champion", 2, a); err != nil {
			t.Fatal(err)
		}
		a.Version, a.To, a.Time = 3, "3", 13
		if err := s.SetAlias(ctx, "churn", "champion", 3, a); err != nil {
			t.Fatal(err)
		}
		v, err := s.GetVersionByAlias(ctx, "churn", "champion")
		if err != nil || v.Version != 3 || fmt.Sprint(v.Aliases) != "[champion]" {
			t.Fatalf("by alias: %+v %v", v, err)
		}
		m, err := s.GetRegisteredModel(ctx, "churn")
		if err != nil {
			t.Fatal(err)
		}
		var latest []string
		for _, v := range m.LatestVersions {
			latest = append(latest, fmt.Sprintf("%d:%s", v.Version, v.CurrentStage))
		}
		if fmt.Sprint(latest) != "[1:Archived 2:Production 3:None]" || len(m.Aliases) != 1 {
			t.Errorf("latest = %v, aliases = %v", latest, m.Aliases)
		}
		if err := s.RenameRegisteredModel(ctx, "churn", "churn2", 20); err != nil {
			t.Fatal(err)
		}
		hist, err := s.History(ctx, "churn2", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range hist {
			got = append(got, fmt.Sprintf("%s:%s%d:%s->%s", e.Kind, e.Alias, e.Version, e.From, e.To))
		}
		want := "[version-created:1:-> version-created:2:-> version-created:3:-> stage:1:None->Production stage:1:Production->Archived " +
			"stage:2:None->Production alias:champion2:->2 alias:champion3:2->3]"
		if fmt.Sprint(got) != want {
			t.Errorf("history = %v\nwant      %s", got, want)
		}
		f, _ := tracking.ParseFilter("name = 'churn2' and run_id IN ('r1', 'r3')")
		vs, _, err := s.SearchModelVersions(ctx, modelregistry.VersionQuery{Filter: f, MaxResults: 10})
		if err != nil || len(vs) != 2 || vs[0].Version != 3 {
			t.Fatalf("search versions = %+v %v", vs, err)
		}
		f, _ = tracking.ParseFilter("name LIKE 'churn%'")
		ms, _, err := s.SearchRegisteredModels(ctx, modelregistry.ModelQuery{Filter: f, MaxResults: 10})
		if err != nil || len(ms) != 1 || ms[0].Name != "churn2" {
			t.Fatalf("search models = %+v %v", ms, err)
		}
		if err := s.DeleteModelVersion(ctx, "churn2", 3, modelregistry.Event{Model: "churn2", Kind: modelregistry.EventVersionDeleted,
			Version: 3, Actor: "alice", Time: 30}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetVersionByAlias(ctx, "churn2", "champion"); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("alias of a deleted version: %v", err)
		}
	})
}
