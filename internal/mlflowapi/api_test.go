package mlflowapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type mlflowError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

func TestTrackingWireFormat(t *testing.T) {
	p := start(t, false)
	var exp struct{ Experiment map[string]any }
	p.mlflow("GET", "experiments/get?experiment_id=0", nil, 200, &exp)
	if exp.Experiment["name"] != "Default" || exp.Experiment["artifact_location"] != "mlflow-artifacts:/0" {
		t.Errorf("experiment 0 = %v", exp.Experiment)
	}
	var created struct {
		ExperimentID string `json:"experiment_id"`
	}
	p.mlflow("POST", "experiments/create", map[string]any{"name": "churn"}, 200, &created)
	var e mlflowError
	p.mlflow("POST", "experiments/create", map[string]any{"name": "churn"}, 400, &e)
	if e.ErrorCode != "RESOURCE_ALREADY_EXISTS" {
		t.Errorf("duplicate experiment: %+v", e)
	}
	p.mlflow("GET", "experiments/get-by-name?experiment_name=nope", nil, 404, &e)
	if e.ErrorCode != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("missing experiment: %+v", e)
	}
	var run struct {
		Run struct {
			Info map[string]any
		}
	}
	p.mlflow("POST", "runs/create", map[string]any{"experiment_id": created.ExperimentID, "start_time": 1700000000000,
		"tags": []map[string]string{{"key": "mlflow.user", "value": "ada"}}}, 200, &run)
	runID := run.Run.Info["run_id"].(string)
	if run.Run.Info["status"] != "RUNNING" || run.Run.Info["artifact_uri"] != fmt.Sprintf("mlflow-artifacts:/%s/%s/artifacts", created.ExperimentID, runID) {
		t.Errorf("run info = %v", run.Run.Info)
	}
	metrics := make([]map[string]any, 1001)
	for i := range metrics {
		metrics[i] = map[string]any{"key": "m", "value": i, "timestamp": 1, "step": i}
	}
	p.mlflow("POST", "runs/log-batch", map[string]any{"run_id": runID, "metrics": metrics}, 400, &e)
	if e.ErrorCode != "INVALID_PARAMETER_VALUE" || !strings.Contains(e.Message, "1000") {
		t.Errorf("1001 metrics: %+v", e)
	}
	p.mlflow("POST", "runs/log-batch", map[string]any{"run_id": runID, "metrics": metrics[:1000]}, 200, nil)
	p.mlflow("POST", "runs/log-batch", map[string]any{"run_id": runID, "params": []map[string]string{{"key": "alpha", "value": "0.1"}}}, 200, nil)
	p.mlflow("POST", "runs/log-metric", map[string]any{"run_id": runID, "key": "nan", "value": "NaN", "timestamp": 5, "step": 0}, 200, nil)
	p.mlflow("POST", "runs/log-parameter", map[string]any{"run_id": runID, "key": "alpha", "value": "0.2"}, 400, &e)
	if e.ErrorCode != "INVALID_PARAMETER_VALUE" || !strings.Contains(e.Message, "Changing param values is not allowed") {
		t.Errorf("changed param: %+v", e)
	}
	var got struct {
		Run struct {
			Data struct {
				Metrics []map[string]any
				Params  []map[string]any
			}
		}
	}
	p.mlflow("GET", "runs/get?run_id="+runID, nil, 200, &got)
	latest := map[string]any{}
	for _, m := range got.Run.Data.Metrics {
		latest[m["key"].(string)] = m["value"]
	}
	if latest["m"] != 999.0 || latest["nan"] != "NaN" {
		t.Errorf("latest metrics = %v", latest)
	}
	var hist struct {
		Metrics       []map[string]any
		NextPageToken string `json:"next_page_token"`
	}
	p.mlflow("GET", "metrics/get-history?run_id="+runID+"&metric_key=m&max_results=600", nil, 200, &hist)
	if len(hist.Metrics) != 600 || hist.NextPageToken == "" {
		t.Fatalf("history page: %d metrics, token %q", len(hist.Metrics), hist.NextPageToken)
	}
	tok := hist.NextPageToken
	hist.NextPageToken = ""
	p.mlflow("GET", "metrics/get-history?run_id="+runID+"&metric_key=m&max_results=600&page_token="+tok, nil, 200, &hist)
	if len(hist.Metrics) != 400 || hist.NextPageToken != "" {
		t.Errorf("history page 2: %d metrics, token %q", len(hist.Metrics), hist.NextPageToken)
	}
	var search struct {
		Runs []json.RawMessage
	}
	p.mlflow("POST", "runs/search", map[string]any{"experiment_ids": []string{created.ExperimentID},
		"filter": "metrics.m > 100 and params.alpha = '0.1'", "order_by": []string{"metrics.m DESC"}, "run_view_type": "ACTIVE_ONLY"}, 200, &search)
	if len(search.Runs) != 1 {
		t.Errorf("search found %d runs", len(search.Runs))
	}
	p.mlflow("POST", "runs/search", map[string]any{"experiment_ids": []string{"0"}, "filter": "metrics.m >"}, 400, &e)
	if e.ErrorCode != "INVALID_PARAMETER_VALUE" {
		t.Errorf("bad filter: %+v", e)
	}
	p.mlflow("POST", "runs/does-not-exist", map[string]any{}, 404, &e)
	if e.ErrorCode != "ENDPOINT_NOT_FOUND" {
		t.Errorf("unknown endpoint: %+v", e)
	}
}

func TestAuthAndTeams(t *testing.T) {
	p := start(t, false)
	var e mlflowError
	p.call("", "GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", nil, 401, &e)
	if e.ErrorCode != "UNAUTHENTICATED" {
		t.Errorf("no token: %+v", e)
	}
	// The admin token names no team: it must say which.
	p.call(adminToken, "POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "x"}, 400, &e)
	if e.ErrorCode != "INVALID_PARAMETER_VALUE" || !strings.Contains(e.Message, "mlportal.team") {
		t.Errorf("no team: %+v", e)
	}
	var created struct {
		ExperimentID string `json:"experiment_id"`
	}
	p.call(adminToken, "POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "theirs",
		"tags": []map[string]string{{"key": "mlportal.team", "value": "other"}}}, 200, &created)
	// The ml token can read it but not write to it.
	p.mlflow("GET", "experiments/get?experiment_id="+created.ExperimentID, nil, 200, nil)
	p.mlflow("POST", "runs/create", map[string]any{"experiment_id": created.ExperimentID}, 403, &e)
	if e.ErrorCode != "PERMISSION_DENIED" {
		t.Errorf("other team's experiment: %+v", e)
	}
	p.mlflow("POST", "registered-models/create", map[string]any{"name": "m",
		"tags": []map[string]string{{"key": "mlportal.team", "value": "other"}}}, 403, &e)
	var audit struct {
		Items []struct{ Action, Target, Outcome string }
	}
	p.call(adminToken, "GET", "/api/v1/audit?action=mlflow.createRun", nil, 200, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Outcome != "denied" || audit.Items[0].Target != "mlflow/experiments/"+created.ExperimentID {
		t.Errorf("audit of the denied createRun = %+v", audit.Items)
	}
}
