package mlflowapi

import (
	"encoding/json"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/fault"

	"github.com/mlportal/mlportal/internal/httpapi"
	"github.com/mlportal/mlportal/internal/tracking"
)

// enum decodes a protobuf enum sent by name or by number.
type enum struct {
	name   string
	number int64
}

func (e *enum) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.name)
	}
	return json.Unmarshal(b, &e.number)
}

func viewTypeOf(name string, e enum) tracking.ViewType {
	if name == "" {
		name = e.name
	}
	switch name {
	case "DELETED_ONLY":
		return tracking.ViewDeletedOnly
	case "ALL":
		return tracking.ViewAll
	case "ACTIVE_ONLY":
		return tracking.ViewActiveOnly
	}
	if e.number >= 1 && e.number <= 3 {
		return tracking.ViewType(e.number)
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 1 && n <= 3 {
		return tracking.ViewType(n)
	}
	return tracking.ViewActiveOnly
}

func parseFilter(s string) (tracking.Filter, error) {
	if s == "" {
		return nil, nil
	}
	return tracking.ParseFilter(s)
}

// parseSearch reads a search's filter and order-by clauses.
func parseSearch(filter string, orderBy []string) (tracking.Filter, []tracking.OrderBy, error) {
	f, err := parseFilter(filter)
	if err != nil {
		return nil, nil, err
	}
	obs, err := parseOrderBy(orderBy)
	return f, obs, err
}

func parseOrderBy(items []string) ([]tracking.OrderBy, error) {
	out := make([]tracking.OrderBy, 0, len(items))
	for _, s := range items {
		o, err := tracking.ParseOrderBy(s)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (a *API) createExperiment(c echo.Context) error {
	var req struct {
		Name             string     `json:"name"`
		ArtifactLocation string     `json:"artifact_location"`
		Tags             []keyValue `json:"tags"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := required("name", req.Name); err != nil {
		return err
	}
	id, err := a.tracking.CreateExperiment(c.Request().Context(), principal(c), req.Name, req.ArtifactLocation, tagsIn(req.Tags))
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(c, "mlflow/experiments/"+id)
	return reply(c, map[string]string{"experiment_id": id})
}

func (a *API) getExperiment(c echo.Context) error {
	var req struct {
		ExperimentID string `json:"experiment_id"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := required("experiment_id", req.ExperimentID); err != nil {
		return err
	}
	e, err := a.tracking.GetExperiment(c.Request().Context(), principal(c), req.ExperimentID)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"experiment": experimentOut(e)})
}

func (a *API) getExperimentByName(c echo.Context) error {
	var req struct {
		Name string `json:"experiment_name"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := required("experiment_name", req.Name); err != nil {
		return err
	}
	e, err := a.tracking.GetExperimentByName(c.Request().Context(), principal(c), req.Name)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"experiment": experimentOut(e)})
}

func (a *API) searchExperiments(c echo.Context) error {
	var req struct {
		MaxResults num      `json:"max_results"`
		PageToken  string   `json:"page_token"`
		Filter     string   `json:"filter"`
		OrderBy    []string `json:"order_by"`
		ViewType   enum     `json:"-"`
		ViewName   string   `json:"view_type"`
	}
	if c.Request().Method == "GET" {
		var q struct {
			MaxResults int64    `json:"max_results"`
			PageToken  string   `json:"page_token"`
			Filter     string   `json:"filter"`
			OrderBy    []string `json:"order_by"`
			ViewType   string   `json:"view_type"`
		}
		if err := bindQuery(c, &q); err != nil {
			return err
		}
		req.MaxResults, req.PageToken, req.Filter, req.OrderBy, req.ViewName = num(q.MaxResults), q.PageToken, q.Filter, q.OrderBy, q.ViewType
	} else {
		var body struct {
			MaxResults num      `json:"max_results"`
			PageToken  string   `json:"page_token"`
			Filter     string   `json:"filter"`
			OrderBy    []string `json:"order_by"`
			ViewType   enum     `json:"view_type"`
		}
		if err := bind(c, &body); err != nil {
			return err
		}
		req.MaxResults, req.PageToken, req.Filter, req.OrderBy, req.ViewType = body.MaxResults, body.PageToken, body.Filter, body.OrderBy, body.ViewType
	}
	f, obs, err := parseSearch(req.Filter, req.OrderBy)
	if err != nil {
		return err
	}
	es, next, err := a.tracking.SearchExperiments(c.Request().Context(), principal(c), tracking.ExperimentQuery{Filter: f, OrderBy: obs,
		View: viewTypeOf(req.ViewName, req.ViewType), MaxResults: int(req.MaxResults), PageToken: req.PageToken})
	if err != nil {
		return err
	}
	out := struct {
		Experiments   []experimentJSON `json:"experiments,omitempty"`
		NextPageToken string           `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, e := range es {
		out.Experiments = append(out.Experiments, experimentOut(e))
	}
	return reply(c, out)
}

type experimentIDRequest struct {
	ExperimentID string `json:"experiment_id"`
	NewName      string `json:"new_name"`
	Key          string `json:"key"`
	Value        string `json:"value"`
}

func (a *API) experimentRequest(c echo.Context) (experimentIDRequest, error) {
	var req experimentIDRequest
	if err := bind(c, &req); err != nil {
		return req, err
	}
	httpapi.SetAuditTarget(c, "mlflow/experiments/"+req.ExperimentID)
	return req, required("experiment_id", req.ExperimentID)
}

func (a *API) updateExperiment(c echo.Context) error {
	req, err := a.experimentRequest(c)
	if err != nil {
		return err
	}
	if err := required("new_name", req.NewName); err != nil {
		return err
	}
	if err := a.tracking.RenameExperiment(c.Request().Context(), principal(c), req.ExperimentID, req.NewName); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) deleteExperiment(c echo.Context) error {
	req, err := a.experimentRequest(c)
	if err != nil {
		return err
	}
	if err := a.tracking.DeleteExperiment(c.Request().Context(), principal(c), req.ExperimentID); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) restoreExperiment(c echo.Context) error {
	req, err := a.experimentRequest(c)
	if err != nil {
		return err
	}
	if err := a.tracking.RestoreExperiment(c.Request().Context(), principal(c), req.ExperimentID); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) setExperimentTag(c echo.Context) error {
	req, err := a.experimentRequest(c)
	if err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	if err := a.tracking.SetExperimentTag(c.Request().Context(), principal(c), req.ExperimentID, tracking.Tag{Key: req.Key, Value: req.Value}); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) deleteExperimentTag(c echo.Context) error {
	req, err := a.experimentRequest(c)
	if err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	if err := a.tracking.DeleteExperimentTag(c.Request().Context(), principal(c), req.ExperimentID, req.Key); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) createRun(c echo.Context) error {
	var req struct {
		ExperimentID string     `json:"experiment_id"`
		UserID       string     `json:"user_id"`
		RunName      string     `json:"run_name"`
		StartTime    num        `json:"start_time"`
		Tags         []keyValue `json:"tags"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	httpapi.SetAuditTarget(c, "mlflow/experiments/"+req.ExperimentID)
	r, err := a.tracking.CreateRun(c.Request().Context(), principal(c), tracking.CreateRunRequest{ExperimentID: req.ExperimentID,
		UserID: req.UserID, Name: req.RunName, StartTime: int64(req.StartTime), Tags: tagsIn(req.Tags)})
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(c, "mlflow/runs/"+r.Info.ID)
	return reply(c, map[string]any{"run": runOut(r)})
}

// runRequest is the union of the run calls' fields; run_uuid is the
// deprecated spelling of run_id.
type runRequest struct {
	RunID     string     `json:"run_id"`
	RunUUID   string     `json:"run_uuid"`
	Key       string     `json:"key"`
	Value     string     `json:"value"`
	Status    string     `json:"status"`
	EndTime   num        `json:"end_time"`
	RunName   string     `json:"run_name"`
	MetricKey string     `json:"metric_key"`
	PageToken string     `json:"page_token"`
	MaxResult num        `json:"max_results"`
	Tags      []keyValue `json:"tags"`
}

func (a *API) runRequest(c echo.Context, v any, id func() string) error {
	if err := bind(c, v); err != nil {
		return err
	}
	runID := id()
	httpapi.SetAuditTarget(c, "mlflow/runs/"+runID)
	return required("run_id", runID)
}

func (r *runRequest) id() string {
	if r.RunID == "" {
		return r.RunUUID
	}
	return r.RunID
}

func (a *API) getRun(c echo.Context) error {
	var req struct {
		RunID   string `json:"run_id"`
		RunUUID string `json:"run_uuid"`
	}
	if err := bindQuery(c, &req); err != nil {
		return err
	}
	id := req.RunID
	if id == "" {
		id = req.RunUUID
	}
	if err := required("run_id", id); err != nil {
		return err
	}
	r, err := a.tracking.GetRun(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"run": runOut(r)})
}

func (a *API) updateRun(c echo.Context) error {
	var req runRequest
	if err := a.runRequest(c, &req, req.id); err != nil {
		return err
	}
	ri, err := a.tracking.UpdateRun(c.Request().Context(), principal(c), req.id(), tracking.RunStatus(req.Status), int64(req.EndTime), req.RunName)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"run_info": runInfoOut(ri)})
}

func (a *API) deleteRun(c echo.Context) error {
	var req runRequest
	if err := a.runRequest(c, &req, req.id); err != nil {
		return err
	}
	if err := a.tracking.DeleteRun(c.Request().Context(), principal(c), req.id()); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) restoreRun(c echo.Context) error {
	var req runRequest
	if err := a.runRequest(c, &req, req.id); err != nil {
		return err
	}
	if err := a.tracking.RestoreRun(c.Request().Context(), principal(c), req.id()); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) logMetric(c echo.Context) error {
	var req struct {
		RunID   string `json:"run_id"`
		RunUUID string `json:"run_uuid"`
		metricJSON
	}
	id := func() string {
		if req.RunID == "" {
			return req.RunUUID
		}
		return req.RunID
	}
	if err := a.runRequest(c, &req, id); err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	return a.batch(c, id(), tracking.Batch{Metrics: []tracking.Metric{metricIn(req.metricJSON)}})
}

func (a *API) batch(c echo.Context, runID string, b tracking.Batch) error {
	if err := a.tracking.LogBatch(c.Request().Context(), principal(c), runID, b); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) logParam(c echo.Context) error {
	var req runRequest
	if err := a.runRequest(c, &req, req.id); err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	return a.batch(c, req.id(), tracking.Batch{Params: []tracking.Param{{Key: req.Key, Value: req.Value}}})
}

func (a *API) setTag(c echo.Context) error {
	var req runRequest
	if err := a.runRequest(c, &req, req.id); err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	return a.batch(c, req.id(), tracking.Batch{Tags: []tracking.Tag{{Key: req.Key, Value: req.Value}}})
}

func (a *API) deleteTag(c echo.Context) error {
	var req runRequest
	if err := a.runRequest(c, &req, req.id); err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	if err := a.tracking.DeleteRunTag(c.Request().Context(), principal(c), req.id(), req.Key); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) logBatch(c echo.Context) error {
	var req struct {
		RunID   string       `json:"run_id"`
		Metrics []metricJSON `json:"metrics"`
		Params  []keyValue   `json:"params"`
		Tags    []keyValue   `json:"tags"`
	}
	if err := a.runRequest(c, &req, func() string { return req.RunID }); err != nil {
		return err
	}
	b := tracking.Batch{Tags: tagsIn(req.Tags)}
	for _, m := range req.Metrics {
		b.Metrics = append(b.Metrics, metricIn(m))
	}
	for _, p := range req.Params {
		b.Params = append(b.Params, tracking.Param{Key: p.Key, Value: p.Value})
	}
	return a.batch(c, req.RunID, b)
}

func (a *API) logInputs(c echo.Context) error {
	var req struct {
		RunID    string             `json:"run_id"`
		Datasets []datasetInputJSON `json:"datasets"`
		Models   []modelIDJSON      `json:"models"`
	}
	if err := a.runRequest(c, &req, func() string { return req.RunID }); err != nil {
		return err
	}
	var ds []tracking.DatasetInput
	for _, d := range req.Datasets {
		ds = append(ds, tracking.DatasetInput{Tags: tagsIn(d.Tags), Dataset: tracking.Dataset{Name: d.Dataset.Name, Digest: d.Dataset.Digest,
			SourceType: d.Dataset.SourceType, Source: d.Dataset.Source, Schema: d.Dataset.Schema, Profile: d.Dataset.Profile}})
	}
	var models []string
	for _, m := range req.Models {
		models = append(models, m.ModelID)
	}
	if err := a.tracking.LogInputs(c.Request().Context(), principal(c), req.RunID, ds, models); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) logOutputs(c echo.Context) error {
	var req struct {
		RunID  string            `json:"run_id"`
		Models []modelOutputJSON `json:"models"`
	}
	if err := a.runRequest(c, &req, func() string { return req.RunID }); err != nil {
		return err
	}
	outs := make([]tracking.ModelOutput, len(req.Models))
	for i, m := range req.Models {
		outs[i] = tracking.ModelOutput{ModelID: m.ModelID, Step: int64(m.Step)}
	}
	if err := a.tracking.LogOutputs(c.Request().Context(), principal(c), req.RunID, outs); err != nil {
		return err
	}
	return reply(c, empty)
}

// logModel records MLflow 2's model metadata as the run's
// mlflow.log-model.history tag, as MLflow's server does.
func (a *API) logModel(c echo.Context) error {
	var req struct {
		RunID     string `json:"run_id"`
		ModelJSON string `json:"model_json"`
	}
	if err := a.runRequest(c, &req, func() string { return req.RunID }); err != nil {
		return err
	}
	if err := required("model_json", req.ModelJSON); err != nil {
		return err
	}
	var model map[string]any
	if err := json.Unmarshal([]byte(req.ModelJSON), &model); err != nil {
		return fault.Invalid("model_json is not valid JSON: "+err.Error(), fault.Field("model_json", "not JSON"))
	}
	r, err := a.tracking.GetRun(c.Request().Context(), principal(c), req.RunID)
	if err != nil {
		return err
	}
	var history []any
	for _, t := range r.Tags {
		if t.Key == "mlflow.log-model.history" {
			_ = json.Unmarshal([]byte(t.Value), &history)
		}
	}
	history = append(history, model)
	b, _ := json.Marshal(history)
	return a.batch(c, req.RunID, tracking.Batch{Tags: []tracking.Tag{{Key: "mlflow.log-model.history", Value: string(b)}}})
}

func (a *API) getMetricHistory(c echo.Context) error {
	var req struct {
		RunID      string `json:"run_id"`
		RunUUID    string `json:"run_uuid"`
		MetricKey  string `json:"metric_key"`
		PageToken  string `json:"page_token"`
		MaxResults int64  `json:"max_results"`
	}
	if err := bindQuery(c, &req); err != nil {
		return err
	}
	if req.RunID == "" {
		req.RunID = req.RunUUID
	}
	if err := required("run_id", req.RunID); err != nil {
		return err
	}
	if err := required("metric_key", req.MetricKey); err != nil {
		return err
	}
	ms, next, err := a.tracking.MetricHistory(c.Request().Context(), principal(c), req.RunID, req.MetricKey, int(req.MaxResults), req.PageToken)
	if err != nil {
		return err
	}
	out := struct {
		Metrics       []metricJSON `json:"metrics,omitempty"`
		NextPageToken string       `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, m := range ms {
		m.RunID = ""
		out.Metrics = append(out.Metrics, metricOut(m))
	}
	return reply(c, out)
}

func (a *API) getMetricHistoryBulk(c echo.Context) error {
	var req struct {
		RunIDs     []string `json:"run_ids"`
		MetricKey  string   `json:"metric_key"`
		StartStep  *int64   `json:"start_step"`
		EndStep    *int64   `json:"end_step"`
		MaxResults int64    `json:"max_results"`
	}
	if err := bindQuery(c, &req); err != nil {
		return err
	}
	ms, err := a.tracking.MetricHistoryBulk(c.Request().Context(), principal(c), req.RunIDs, req.MetricKey, req.StartStep, req.EndStep, int(req.MaxResults))
	if err != nil {
		return err
	}
	out := struct {
		Metrics []metricJSON `json:"metrics,omitempty"`
	}{Metrics: metricsOut(ms)}
	return reply(c, out)
}

func (a *API) searchRuns(c echo.Context) error {
	var req struct {
		ExperimentIDs []string `json:"experiment_ids"`
		Filter        string   `json:"filter"`
		RunViewType   enum     `json:"run_view_type"`
		MaxResults    num      `json:"max_results"`
		OrderBy       []string `json:"order_by"`
		PageToken     string   `json:"page_token"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	f, obs, err := parseSearch(req.Filter, req.OrderBy)
	if err != nil {
		return err
	}
	runs, next, err := a.tracking.SearchRuns(c.Request().Context(), principal(c), tracking.RunQuery{ExperimentIDs: req.ExperimentIDs,
		Filter: f, OrderBy: obs, View: viewTypeOf("", req.RunViewType), MaxResults: int(req.MaxResults), PageToken: req.PageToken})
	if err != nil {
		return err
	}
	out := struct {
		Runs          []runJSON `json:"runs,omitempty"`
		NextPageToken string    `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, r := range runs {
		out.Runs = append(out.Runs, runOut(r))
	}
	return reply(c, out)
}
