package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/datasets"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/models"
	"github.com/mlportal/mlportal/internal/tracking"
)

// newModel registers a model of team with versions made from runs (each
// run tagged with its project); "" runs make versions without a run.
func newModel(t *testing.T, s *Store, name, team string, tags []tracking.Tag, runs ...string) {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateRegisteredModel(ctx, modelregistry.RegisteredModel{Name: name, Team: team, CreationTime: 1, LastUpdatedTime: 1, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	for i, run := range runs {
		if _, err := s.CreateModelVersion(ctx, modelregistry.ModelVersion{Name: name, CreationTime: int64(10 + i), LastUpdatedTime: int64(10 + i),
			CurrentStage: "None", Source: "runs:/" + run + "/model", StorageLocation: "mlflow-artifacts:/1/" + run + "/artifacts/model", RunID: run, Status: "READY"},
			modelregistry.Event{Model: name, Kind: modelregistry.EventVersionCreated, Actor: "alice", Time: int64(10 + i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func names(ms []modelregistry.RegisteredModel) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, " ")
}

func TestModelListing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		e := newExperiment(t, s, "exp")
		for run, project := range map[string]string{"r-churn-1": "churn", "r-churn-2": "churn-v2", "r-fraud": "fraud"} {
			newRun(t, s, e, run, 1)
			if err := s.LogBatch(ctx, run, tracking.Batch{Tags: []tracking.Tag{{Key: "mlportal.project", Value: project}}}); err != nil {
				t.Fatal(err)
			}
		}
		// churn's newest version came from project churn-v2; its tag says churn.
		newModel(t, s, "churn", "ml", []tracking.Tag{{Key: "mlportal.project", Value: "churn"}}, "r-churn-1", "r-churn-2")
		newModel(t, s, "churn_ab", "ml", nil, "r-churn-2", "r-churn-1")
		newModel(t, s, "Fraud-Detector", "risk", nil, "r-fraud")
		newModel(t, s, "empty", "ml", nil)
		for _, c := range []struct {
			f     models.Filter
			after string
			limit int
			want  string
		}{
			{models.Filter{}, "", 10, "Fraud-Detector churn churn_ab empty"},
			{models.Filter{}, "churn", 2, "churn_ab empty"},
			{models.Filter{Team: "ml"}, "", 10, "churn churn_ab empty"},
			{models.Filter{Query: "CHURN"}, "", 10, "churn churn_ab"},
			{models.Filter{Query: "_"}, "", 10, "churn_ab"}, // not a LIKE wildcard
			{models.Filter{Query: "fraud"}, "", 10, "Fraud-Detector"},
			{models.Filter{Project: "churn"}, "", 10, "churn churn_ab"}, // churn by its tag; churn_ab by its newest version's run (r-churn-1)
			{models.Filter{Project: "churn-v2"}, "", 10, ""},
			{models.Filter{Project: "fraud", Team: "risk"}, "", 10, "Fraud-Detector"},
		} {
			ms, err := s.ListModels(ctx, c.f, c.after, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(ms); got != c.want {
				t.Errorf("ListModels(%+v, %q, %d) = %q, want %q", c.f, c.after, c.limit, got, c.want)
			}
		}
		ms, _ := s.ListModels(ctx, models.Filter{Query: "churn_ab"}, "", 1)
		if len(ms) != 1 || len(ms[0].LatestVersions) != 1 || ms[0].LatestVersions[0].Version != 2 {
			t.Errorf("children of churn_ab = %+v", ms)
		}
		vs, err := s.ListModelVersions(ctx, "churn", 0, 10)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 {
			t.Fatalf("versions = %+v %v", vs, err)
		}
		if vs, _ = s.ListModelVersions(ctx, "churn", 2, 10); len(vs) != 1 || vs[0].Version != 1 {
			t.Errorf("versions below 2 = %+v", vs)
		}
		runs, err := s.GetRuns(ctx, []string{"r-fraud", "nope", "r-churn-1"})
		if err != nil || len(runs) != 2 || runs[0].Info.ID != "r-churn-1" || len(runs[0].Tags) != 2 {
			t.Errorf("GetRuns = %+v %v", runs, err)
		}
	})
}

func TestModelFactsAndApprovals(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		newModel(t, s, "churn", "ml", nil, "r1", "r2")
		k1, k2 := models.VersionKey{Name: "churn", Version: 1}, models.VersionKey{Name: "churn", Version: 2}
		f := models.Facts{Key: k1, Available: true, Framework: "sklearn", Flavors: []string{"python_function", "sklearn"}, Digest: "sha256:ab",
			Signature: &models.Signature{Inputs: []models.ColumnSpec{{Name: "x", Type: "tensor:float32", Shape: []int{-1, 4}}}}, Requirements: "a==1\n", ReadAt: 5}
		if err := s.PutModelFacts(ctx, f); err != nil {
			t.Fatal(err)
		}
		f.Digest = "sha256:cd"
		if err := s.PutModelFacts(ctx, f); err != nil {
			t.Fatal(err)
		}
		if err := s.PutModelFacts(ctx, models.Facts{Key: k2, ReadAt: 6}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ModelFacts(ctx, []models.VersionKey{k1, k2, {Name: "churn", Version: 3}})
		if err != nil || len(got) != 2 {
			t.Fatalf("facts = %+v %v", got, err)
		}
		if g := got[k1]; g.Digest != "sha256:cd" || !g.Available || g.Signature == nil || fmt.Sprint(g.Signature.Inputs[0].Shape) != "[-1 4]" || g.Requirements != "a==1\n" {
			t.Errorf("facts of v1 = %+v", g)
		}
		if g := got[k2]; g.Available || g.Signature != nil || len(g.Flavors) != 0 {
			t.Errorf("facts of v2 = %+v", g)
		}

		at := time.UnixMilli(1_700_000_000_000).UTC()
		for _, st := range []string{models.ApprovalApproved, models.ApprovalRejected} {
			ev := modelregistry.Event{Model: "churn", Kind: modelregistry.EventApproval, Version: 1, To: st, Actor: "mia", Time: at.UnixMilli(), Reason: "because " + st}
			if err := s.SetApproval(ctx, k1, models.Approval{Status: st, By: "user:default/mia", At: at, Comment: "because " + st}, ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetApproval(ctx, models.VersionKey{Name: "churn", Version: 9}, models.Approval{Status: "approved"}, modelregistry.Event{}); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("approval of a missing version: %v", err)
		}
		as, err := s.Approvals(ctx, []models.VersionKey{k1, k2})
		if err != nil || len(as) != 1 || as[k1].Status != "rejected" || as[k1].By != "user:default/mia" || !as[k1].At.Equal(at) || as[k1].Comment != "because rejected" {
			t.Errorf("approvals = %+v %v", as, err)
		}
		hist, _ := s.History(ctx, "churn", 0, 100)
		var kinds []string
		for _, e := range hist {
			kinds = append(kinds, fmt.Sprintf("%s:%d:%s->%s", e.Kind, e.Version, e.From, e.To))
		}
		if got := strings.Join(kinds, " "); got != "version-created:1:-> version-created:2:-> approval-changed:1:pending->approved approval-changed:1:approved->rejected" {
			t.Errorf("history = %s", got)
		}
		// Facts and approvals go with their version; renames carry them.
		if err := s.RenameRegisteredModel(ctx, "churn", "churn2", 20); err != nil {
			t.Fatal(err)
		}
		if as, _ := s.Approvals(ctx, []models.VersionKey{{Name: "churn2", Version: 1}}); len(as) != 1 {
			t.Errorf("approvals after rename = %+v", as)
		}
		if err := s.DeleteModelVersion(ctx, "churn2", 1, modelregistry.Event{Model: "churn2", Kind: modelregistry.EventVersionDeleted, Version: 1, Actor: "a", Time: 30}); err != nil {
			t.Fatal(err)
		}
		if fs, _ := s.ModelFacts(ctx, []models.VersionKey{{Name: "churn2", Version: 1}}); len(fs) != 0 {
			t.Errorf("facts of a deleted version = %+v", fs)
		}
	})
}

func TestDatasetVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		hash := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
		at := time.UnixMilli(1_700_000_000_000).UTC()
		reg := func(name, team, h, uri string) (datasets.Version, bool, error) {
			rows := int64(10)
			return s.RegisterDatasetVersion(ctx, datasets.Version{Name: name, Team: team, URI: uri, ContentHash: h, RowCount: &rows,
				Schema: []datasets.Column{{Name: "a", Type: "integer"}}, Profile: &datasets.Profile{Columns: []datasets.ColumnProfile{{Name: "a"}}},
				Quality: datasets.Report{Status: datasets.QualityUnchecked, Checks: []datasets.Check{}}, CreatedAt: at, CreatedBy: "ada"})
		}
		for i, c := range []struct {
			name, team, hash, uri string
			version               int
			created               bool
		}{
			{"train", "ml", hash("a"), "s3://b/train.csv", 1, true},
			{"train", "ml", hash("b"), "s3://b/train.csv", 2, true},
			{"train", "ml", hash("a"), "s3://b/elsewhere.csv", 1, false}, // the same content is the same version
			{"eval", "ml", hash("a"), "s3://b/eval.csv", 1, true},
			{"raw", "risk", hash("c"), "s3://b/" + strings.Repeat("x", 300), 1, true},
		} {
			v, created, err := reg(c.name, c.team, c.hash, c.uri)
			if err != nil || v.Version != c.version || created != c.created || v.Team != c.team || *v.RowCount != 10 || !v.CreatedAt.Equal(at) {
				t.Fatalf("registration %d: %+v %v %v", i, v, created, err)
			}
		}
		if _, _, err := reg("train", "risk", hash("d"), "x"); !errors.Is(err, fault.ErrConflict) {
			t.Errorf("another team's name: %v", err)
		}
		d, err := s.GetDataset(ctx, "train")
		if err != nil || d.Team != "ml" || len(d.Versions) != 2 || d.Versions[0].Version != 2 || d.Versions[1].Schema[0].Name != "a" {
			t.Fatalf("dataset = %+v %v", d, err)
		}
		if _, err := s.GetDataset(ctx, "nope"); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("missing dataset: %v", err)
		}
		if _, err := s.GetDatasetVersion(ctx, "train", 3); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("missing version: %v", err)
		}
		ds, err := s.ListDatasets(ctx, "ml", "", 10)
		if err != nil || len(ds) != 2 || ds[0].Name != "eval" || ds[1].Name != "train" || len(ds[1].Versions) != 2 {
			t.Errorf("datasets of ml = %+v %v", ds, err)
		}
		if ds, _ = s.ListDatasets(ctx, "", "raw", 10); len(ds) != 1 || ds[0].Name != "train" {
			t.Errorf("datasets after raw = %+v", ds)
		}
		found, err := s.FindDatasetVersions(ctx, []string{hash("a")}, []string{"s3://b/" + strings.Repeat("x", 300), "s3://b/" + strings.Repeat("x", 299)})
		var got []string
		for _, v := range found {
			got = append(got, fmt.Sprintf("%s@%d", v.Name, v.Version))
		}
		if err != nil || strings.Join(got, " ") != "eval@1 train@1 raw@1" && strings.Join(got, " ") != "train@1 eval@1 raw@1" {
			t.Errorf("found = %v %v", got, err)
		}
	})
}

func TestChangeFeed(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		newModel(t, s, "churn", "ml", nil, "r1")
		_ = s.SetRegisteredModelTag(ctx, "churn", tracking.Tag{Key: "k", Value: "v"}, 3)
		_ = s.TransitionStage(ctx, "churn", 1, "Staging", false, modelregistry.Event{Model: "churn", Kind: modelregistry.EventStage, Version: 1, To: "Staging", Actor: "a", Time: 4})
		_ = s.SetAlias(ctx, "churn", "champion", 1, modelregistry.Event{Model: "churn", Kind: modelregistry.EventAlias, Alias: "champion", Version: 1, To: "1", Actor: "a", Time: 5})
		_ = s.RenameRegisteredModel(ctx, "churn", "churn2", 6)
		_ = s.DeleteRegisteredModel(ctx, "churn2")
		cs, err := s.ChangesAfter(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, c := range cs {
			if c.Seq != int64(i+1) {
				t.Errorf("change %d has seq %d", i, c.Seq)
			}
			got = append(got, fmt.Sprintf("%s %s %s %d", c.Op, c.Kind, c.Name, c.Version))
		}
		want := "upsert model churn 0|upsert model-version churn 1|upsert model churn 0|upsert model-version churn 1|upsert model churn 0|" +
			"delete model churn 0|upsert model churn2 0|delete model churn2 0"
		if strings.Join(got, "|") != want {
			t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "|"), want)
		}
		if cs, _ = s.ChangesAfter(ctx, 6, 1); len(cs) != 1 || cs[0].Seq != 7 {
			t.Errorf("after 6, limit 1: %+v", cs)
		}

		// A long poll is answered by the next commit, with that change.
		feed := models.NewFeed(s, time.Hour) // no polling: the commit's signal must wake it
		reader := identity.Principal{Subject: "user:default/ada", Kind: identity.KindBackstageUser}
		done := make(chan []models.Change, 1)
		go func() {
			got, _, err := feed.List(ctx, reader, models.EncodeCursor(8), 30*time.Second, 10)
			if err != nil {
				t.Error(err)
			}
			done <- got
		}()
		newModel(t, s, "late", "ml", nil)
		if got := <-done; len(got) != 1 || got[0].Name != "late" || got[0].Seq != 9 {
			t.Errorf("long poll = %+v", got)
		}

		// Concurrent writers: a reader following the feed never sees a gap.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var gaps []string
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(9)
			for {
				cs, err := s.ChangesAfter(ctx, last, 1000)
				if err != nil {
					t.Error(err)
					return
				}
				for _, c := range cs {
					if c.Seq != last+1 {
						gaps = append(gaps, fmt.Sprintf("%d after %d", c.Seq, last))
					}
					last = c.Seq
				}
				select {
				case <-stop:
					if last == 9+40 {
						return
					}
				default:
				}
			}
		}()
		var writers sync.WaitGroup
		for w := range 4 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				for i := range 10 {
					if err := s.CreateRegisteredModel(ctx, modelregistry.RegisteredModel{Name: fmt.Sprintf("m-%d-%d", w, i), Team: "ml"}); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		writers.Wait()
		close(stop)
		wg.Wait()
		if len(gaps) > 0 {
			t.Errorf("the reader saw gaps: %v", gaps)
		}
	})
}
