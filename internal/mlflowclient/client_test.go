package mlflowclient_test

import (
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/mlflowclient"
	"github.com/mlportal/mlportal/internal/mlflowclient/mlflowtest"
)

// TestClientAgainstMLflow drives every operation against a real mlflow server.
func TestClientAgainstMLflow(t *testing.T) {
	srv := mlflowtest.Start(t)
	c, err := mlflowclient.New(mlflowclient.Config{URL: srv.URL, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	expID, err := c.CreateExperiment(ctx, "churn", "", []mlflowclient.Tag{{Key: "mlportal.team", Value: "ml"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateExperiment(ctx, "churn", "", nil)
	if !errors.Is(err, fault.ErrAlreadyExists) || mlflowclient.Code(err) != "RESOURCE_ALREADY_EXISTS" || !strings.Contains(err.Error(), "RESOURCE_ALREADY_EXISTS") {
		t.Fatalf("duplicate experiment: %v (code %q)", err, mlflowclient.Code(err))
	}
	e, err := c.GetExperimentByName(ctx, "churn")
	if err != nil || e.ExperimentID != expID || len(e.Tags) != 1 {
		t.Fatalf("get-by-name: %+v %v", e, err)
	}
	if err := c.SetExperimentTag(ctx, expID, mlflowclient.Tag{Key: "k", Value: "v"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteExperimentTag(ctx, expID, "k"); err != nil {
		t.Fatal(err)
	}
	exps, _, err := c.SearchExperiments(ctx, mlflowclient.SearchExperimentsRequest{Filter: "tags.`mlportal.team` = 'ml'", ViewType: "ALL"})
	if err != nil || len(exps) != 1 {
		t.Fatalf("search experiments: %v %v", exps, err)
	}

	run, err := c.CreateRun(ctx, mlflowclient.CreateRunRequest{ExperimentID: expID, RunName: "train", StartTime: 1000})
	if err != nil {
		t.Fatal(err)
	}
	id := run.Info.RunID
	err = c.LogBatch(ctx, id, []mlflowclient.Metric{{Key: "rmse", Value: 0.9, Timestamp: 1, Step: 0}, {Key: "rmse", Value: 0.8, Timestamp: 2, Step: 1},
		{Key: "nan", Value: mlflowclient.Float(math.NaN()), Timestamp: 2}}, []mlflowclient.Param{{Key: "lr", Value: "0.1"}}, []mlflowclient.Tag{{Key: "t", Value: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	// (Changing a logged param makes mlflow 3.x answer 500 on SQLite;
	// internal/mlflowremote checks params itself.)
	_, err = c.GetRun(ctx, "0123456789abcdef0123456789abcdef")
	if !errors.Is(err, fault.ErrNotFound) || mlflowclient.Code(err) != "RESOURCE_DOES_NOT_EXIST" {
		t.Fatalf("missing run: %v", err)
	}
	if err := c.LogInputs(ctx, id, []mlflowclient.DatasetInput{{Dataset: mlflowclient.Dataset{Name: "d", Digest: "abc", SourceType: "local", Source: "{}"}}}, nil); err != nil {
		t.Fatal(err)
	}
	hist, _, err := c.MetricHistory(ctx, id, "rmse", 0, "")
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %v %v", hist, err)
	}
	bulk, err := c.MetricHistoryBulk(ctx, []string{id}, "rmse", nil, nil, 10)
	if err != nil || len(bulk) != 2 || bulk[0].RunID != id {
		t.Fatalf("bulk history: %+v %v", bulk, err)
	}
	if _, err := c.UpdateRun(ctx, id, "FINISHED", 5000, ""); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRun(ctx, id)
	if err != nil || got.Info.Status != "FINISHED" || got.Info.EndTime != 5000 || len(got.Data.Params) != 1 || len(got.Inputs.DatasetInputs) != 1 {
		t.Fatalf("get run: %+v %v", got, err)
	}
	for _, m := range got.Data.Metrics {
		if m.Key == "nan" && !math.IsNaN(float64(m.Value)) {
			t.Errorf("NaN metric read back as %v", m.Value)
		}
	}
	runs, _, err := c.SearchRuns(ctx, mlflowclient.SearchRunsRequest{ExperimentIDs: []string{expID}, Filter: "metrics.rmse < 0.85 and params.lr = '0.1'",
		OrderBy: []string{"metrics.rmse DESC"}, RunViewType: "ACTIVE_ONLY"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("search runs: %d %v", len(runs), err)
	}
	if err := c.DeleteRunTag(ctx, id, "t"); err != nil {
		t.Fatal(err)
	}

	lm, err := c.CreateLoggedModel(ctx, mlflowclient.CreateLoggedModelRequest{ExperimentID: expID, Name: "model", SourceRunID: id})
	if err != nil || !strings.HasPrefix(lm.Info.ModelID, "m-") {
		t.Fatalf("create logged model: %+v %v", lm, err)
	}
	if _, err := c.FinalizeLoggedModel(ctx, lm.Info.ModelID, "LOGGED_MODEL_READY"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLoggedModelTags(ctx, lm.Info.ModelID, []mlflowclient.Tag{{Key: "a", Value: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteLoggedModelTag(ctx, lm.Info.ModelID, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.LogOutputs(ctx, id, []mlflowclient.ModelOutput{{ModelID: lm.Info.ModelID, Step: 0}}); err != nil {
		t.Fatal(err)
	}
	models, _, err := c.SearchLoggedModels(ctx, mlflowclient.SearchLoggedModelsRequest{ExperimentIDs: []string{expID}})
	if err != nil || len(models) != 1 || models[0].Info.Status != "LOGGED_MODEL_READY" {
		t.Fatalf("search logged models: %+v %v", models, err)
	}

	if _, err := c.CreateRegisteredModel(ctx, "churn-model", "d", []mlflowclient.Tag{{Key: "mlportal.team", Value: "ml"}}); err != nil {
		t.Fatal(err)
	}
	mv, err := c.CreateModelVersion(ctx, mlflowclient.CreateModelVersionRequest{Name: "churn-model", Source: got.Info.ArtifactURI + "/model", RunID: id})
	if err != nil || mv.Version != "1" {
		t.Fatalf("create version: %+v %v", mv, err)
	}
	if _, err := c.TransitionStage(ctx, "churn-model", 1, "Staging", false); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAlias(ctx, "churn-model", "champion", 1); err != nil {
		t.Fatal(err)
	}
	byAlias, err := c.GetVersionByAlias(ctx, "churn-model", "champion")
	if err != nil || byAlias.CurrentStage != "Staging" || byAlias.RunID != id {
		t.Fatalf("alias: %+v %v", byAlias, err)
	}
	if err := c.SetModelVersionTag(ctx, "churn-model", 1, mlflowclient.Tag{Key: "k", Value: "v"}); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateModelVersion(ctx, "churn-model", 1, "first"); err != nil {
		t.Fatal(err)
	}
	vs, _, err := c.SearchModelVersions(ctx, mlflowclient.SearchRequest{Filter: "name = 'churn-model'"})
	if err != nil || len(vs) != 1 || vs[0].Description != "first" {
		t.Fatalf("search versions: %+v %v", vs, err)
	}
	latest, err := c.LatestVersions(ctx, "churn-model", []string{"Staging"})
	if err != nil || len(latest) != 1 {
		t.Fatalf("latest: %+v %v", latest, err)
	}
	if err := c.RenameRegisteredModel(ctx, "churn-model", "churn"); err != nil {
		t.Fatal(err)
	}
	rm, err := c.GetRegisteredModel(ctx, "churn")
	if err != nil || len(rm.Aliases) != 1 || rm.Aliases[0].Version != "1" {
		t.Fatalf("get model: %+v %v", rm, err)
	}
	rms, _, err := c.SearchRegisteredModels(ctx, mlflowclient.SearchRequest{Filter: "name LIKE 'ch%'", OrderBy: []string{"name ASC"}})
	if err != nil || len(rms) != 1 {
		t.Fatalf("search models: %v %v", rms, err)
	}
	if err := c.DeleteAlias(ctx, "churn", "champion"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteModelVersion(ctx, "churn", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRegisteredModel(ctx, "churn"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRegisteredModel(ctx, "churn")
	if !errors.Is(err, fault.ErrNotFound) || mlflowclient.Code(err) != "RESOURCE_DOES_NOT_EXIST" {
		t.Fatalf("deleted model: %v", err)
	}
	if err := c.DeleteRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteExperiment(ctx, expID); err != nil {
		t.Fatal(err)
	}
}

// TestAuthAndRetries checks the credentials sent and that only reads retry,
// against an httptest server standing in for a proxy in front of MLflow
// (the real server has no auth to check).
func TestAuthAndRetries(t *testing.T) {
	var calls atomic.Int32
	var auth atomic.Value
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error_code":"UNAUTHENTICATED","message":"bad token"}`))
	})
	ts := httptest.NewServer(h)
	defer ts.Close()
	c, err := mlflowclient.New(mlflowclient.Config{URL: ts.URL, Token: "tok", Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetExperiment(t.Context(), "1")
	if !errors.Is(err, fault.ErrUnauthenticated) || calls.Load() != 3 || auth.Load() != "Bearer tok" {
		t.Fatalf("read: %v after %d calls, auth %q", err, calls.Load(), auth.Load())
	}
	calls.Store(0)
	c, _ = mlflowclient.New(mlflowclient.Config{URL: ts.URL, Username: "u", Password: "p"})
	err = c.DeleteExperiment(t.Context(), "1")
	if !errors.Is(err, fault.ErrUnavailable) || calls.Load() != 1 || !strings.HasPrefix(auth.Load().(string), "Basic ") {
		t.Fatalf("write: %v after %d calls (writes must not retry), auth %q", err, calls.Load(), auth.Load())
	}
	if _, err := mlflowclient.New(mlflowclient.Config{URL: "localhost:5000"}); err == nil {
		t.Fatal("a URI without a scheme was accepted")
	}
}
