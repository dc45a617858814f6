package mlflowclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// CreateExperiment creates an experiment and returns its id.
func (c *Client) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []Tag) (string, error) {
	var out struct {
		ExperimentID string `json:"experiment_id"`
	}
	err := c.do(ctx, http.MethodPost, "/experiments/create", nil,
		map[string]any{"name": name, "artifact_location": artifactLocation, "tags": tags}, &out)
	return out.ExperimentID, err
}

// GetExperiment returns an experiment by id.
func (c *Client) GetExperiment(ctx context.Context, id string) (Experiment, error) {
	var out struct{ Experiment Experiment }
	err := c.do(ctx, http.MethodGet, "/experiments/get", url.Values{"experiment_id": {id}}, nil, &out)
	return out.Experiment, err
}

// GetExperimentByName returns an experiment by name.
func (c *Client) GetExperimentByName(ctx context.Context, name string) (Experiment, error) {
	var out struct{ Experiment Experiment }
	err := c.do(ctx, http.MethodGet, "/experiments/get-by-name", url.Values{"experiment_name": {name}}, nil, &out)
	return out.Experiment, err
}

// SearchExperimentsRequest is experiments/search's body. ViewType is
// ACTIVE_ONLY, DELETED_ONLY or ALL.
type SearchExperimentsRequest struct {
	MaxResults int64    `json:"max_results,omitempty"`
	PageToken  string   `json:"page_token,omitempty"`
	Filter     string   `json:"filter,omitempty"`
	OrderBy    []string `json:"order_by,omitempty"`
	ViewType   string   `json:"view_type,omitempty"`
}

// SearchExperiments returns a page of experiments and the next page token.
func (c *Client) SearchExperiments(ctx context.Context, req SearchExperimentsRequest) ([]Experiment, string, error) {
	if req.MaxResults <= 0 {
		req.MaxResults = 1000
	}
	var out struct {
		Experiments   []Experiment `json:"experiments"`
		NextPageToken string       `json:"next_page_token"`
	}
	err := c.do(ctx, http.MethodPost, "/experiments/search", nil, req, &out)
	return out.Experiments, out.NextPageToken, err
}

// RenameExperiment renames an experiment.
func (c *Client) RenameExperiment(ctx context.Context, id, name string) error {
	return c.do(ctx, http.MethodPost, "/experiments/update", nil, map[string]any{"experiment_id": id, "new_name": name}, nil)
}

// DeleteExperiment marks an experiment deleted.
func (c *Client) DeleteExperiment(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/experiments/delete", nil, map[string]any{"experiment_id": id}, nil)
}

// RestoreExperiment undoes DeleteExperiment.
func (c *Client) RestoreExperiment(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/experiments/restore", nil, map[string]any{"experiment_id": id}, nil)
}

// SetExperimentTag sets a tag on an experiment.
func (c *Client) SetExperimentTag(ctx context.Context, id string, t Tag) error {
	return c.do(ctx, http.MethodPost, "/experiments/set-experiment-tag", nil,
		map[string]any{"experiment_id": id, "key": t.Key, "value": t.Value}, nil)
}

// DeleteExperimentTag removes a tag from an experiment.
func (c *Client) DeleteExperimentTag(ctx context.Context, id, key string) error {
	return c.do(ctx, http.MethodPost, "/experiments/delete-experiment-tag", nil, map[string]any{"experiment_id": id, "key": key}, nil)
}

// CreateRunRequest is runs/create's body.
type CreateRunRequest struct {
	ExperimentID string `json:"experiment_id"`
	UserID       string `json:"user_id,omitempty"`
	RunName      string `json:"run_name,omitempty"`
	StartTime    int64  `json:"start_time,omitempty"`
	Tags         []Tag  `json:"tags,omitempty"`
}

// CreateRun starts a run; the server picks its id.
func (c *Client) CreateRun(ctx context.Context, req CreateRunRequest) (Run, error) {
	var out struct{ Run Run }
	err := c.do(ctx, http.MethodPost, "/runs/create", nil, req, &out)
	return out.Run, err
}

// GetRun returns a run with its data, inputs and outputs.
func (c *Client) GetRun(ctx context.Context, id string) (Run, error) {
	var out struct{ Run Run }
	err := c.do(ctx, http.MethodGet, "/runs/get", url.Values{"run_id": {id}}, nil, &out)
	return out.Run, err
}

// UpdateRun changes a run's status, end time (0 = unchanged) or name ("" = unchanged).
func (c *Client) UpdateRun(ctx context.Context, id, status string, endTime int64, name string) (RunInfo, error) {
	body := map[string]any{"run_id": id, "status": status}
	if endTime != 0 {
		body["end_time"] = endTime
	}
	if name != "" {
		body["run_name"] = name
	}
	var out struct {
		RunInfo RunInfo `json:"run_info"`
	}
	err := c.do(ctx, http.MethodPost, "/runs/update", nil, body, &out)
	return out.RunInfo, err
}

// DeleteRun marks a run deleted.
func (c *Client) DeleteRun(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/runs/delete", nil, map[string]any{"run_id": id}, nil)
}

// RestoreRun undoes DeleteRun.
func (c *Client) RestoreRun(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/runs/restore", nil, map[string]any{"run_id": id}, nil)
}

// LogBatch writes metrics, params and tags of a run.
func (c *Client) LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []Tag) error {
	return c.do(ctx, http.MethodPost, "/runs/log-batch", nil,
		map[string]any{"run_id": runID, "metrics": metrics, "params": params, "tags": tags}, nil)
}

// DeleteRunTag removes a run's tag.
func (c *Client) DeleteRunTag(ctx context.Context, runID, key string) error {
	return c.do(ctx, http.MethodPost, "/runs/delete-tag", nil, map[string]any{"run_id": runID, "key": key}, nil)
}

// LogInputs records datasets and logged models a run used.
func (c *Client) LogInputs(ctx context.Context, runID string, ds []DatasetInput, models []ModelInput) error {
	return c.do(ctx, http.MethodPost, "/runs/log-inputs", nil, map[string]any{"run_id": runID, "datasets": ds, "models": models}, nil)
}

// LogOutputs records logged models a run produced.
func (c *Client) LogOutputs(ctx context.Context, runID string, models []ModelOutput) error {
	return c.do(ctx, http.MethodPost, "/runs/outputs", nil, map[string]any{"run_id": runID, "models": models}, nil)
}

// MetricHistory returns a page of a run's metric values.
func (c *Client) MetricHistory(ctx context.Context, runID, key string, maxResults int, pageToken string) ([]Metric, string, error) {
	q := url.Values{"run_id": {runID}, "metric_key": {key}}
	if maxResults > 0 {
		q.Set("max_results", strconv.Itoa(maxResults))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var out struct {
		Metrics       []Metric `json:"metrics"`
		NextPageToken string   `json:"next_page_token"`
	}
	err := c.do(ctx, http.MethodGet, "/metrics/get-history", q, nil, &out)
	return out.Metrics, out.NextPageToken, err
}

// MetricHistoryBulk returns a metric's values across runs within steps.
func (c *Client) MetricHistoryBulk(ctx context.Context, runIDs []string, key string, startStep, endStep *int64, maxResults int) ([]Metric, error) {
	q := url.Values{"run_ids": runIDs, "metric_key": {key}}
	if startStep != nil {
		q.Set("start_step", strconv.FormatInt(*startStep, 10))
	}
	if endStep != nil {
		q.Set("end_step", strconv.FormatInt(*endStep, 10))
	}
	if maxResults > 0 {
		q.Set("max_results", strconv.Itoa(maxResults))
	}
	var out struct {
		Metrics []Metric `json:"metrics"`
	}
	err := c.do(ctx, http.MethodGet, "/metrics/get-history-bulk-interval", q, nil, &out)
	return out.Metrics, err
}

// SearchRunsRequest is runs/search's body. RunViewType is ACTIVE_ONLY,
// DELETED_ONLY or ALL.
type SearchRunsRequest struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter,omitempty"`
	RunViewType   string   `json:"run_view_type,omitempty"`
	MaxResults    int64    `json:"max_results,omitempty"`
	OrderBy       []string `json:"order_by,omitempty"`
	PageToken     string   `json:"page_token,omitempty"`
}

// SearchRuns returns a page of runs and the next page token.
func (c *Client) SearchRuns(ctx context.Context, req SearchRunsRequest) ([]Run, string, error) {
	if req.MaxResults <= 0 {
		req.MaxResults = 1000
	}
	var out struct {
		Runs          []Run  `json:"runs"`
		NextPageToken string `json:"next_page_token"`
	}
	err := c.do(ctx, http.MethodPost, "/runs/search", nil, req, &out)
	return out.Runs, out.NextPageToken, err
}

// CreateLoggedModelRequest is logged-models' create body.
type CreateLoggedModelRequest struct {
	ExperimentID string  `json:"experiment_id"`
	Name         string  `json:"name,omitempty"`
	ModelType    string  `json:"model_type,omitempty"`
	SourceRunID  string  `json:"source_run_id,omitempty"`
	Params       []Param `json:"params,omitempty"`
	Tags         []Tag   `json:"tags,omitempty"`
}

// CreateLoggedModel creates a pending logged model; the server picks its id.
func (c *Client) CreateLoggedModel(ctx context.Context, req CreateLoggedModelRequest) (LoggedModel, error) {
	var out struct{ Model LoggedModel }
	err := c.do(ctx, http.MethodPost, "/logged-models", nil, req, &out)
	return out.Model, err
}

// GetLoggedModel returns a logged model.
func (c *Client) GetLoggedModel(ctx context.Context, id string) (LoggedModel, error) {
	var out struct{ Model LoggedModel }
	err := c.do(ctx, http.MethodGet, "/logged-models/"+url.PathEscape(id), nil, nil, &out)
	return out.Model, err
}

// FinalizeLoggedModel sets a logged model's upload status.
func (c *Client) FinalizeLoggedModel(ctx context.Context, id, status string) (LoggedModel, error) {
	var out struct{ Model LoggedModel }
	err := c.do(ctx, http.MethodPatch, "/logged-models/"+url.PathEscape(id), nil, map[string]any{"model_id": id, "status": status}, &out)
	return out.Model, err
}

// SetLoggedModelTags sets tags on a logged model.
func (c *Client) SetLoggedModelTags(ctx context.Context, id string, tags []Tag) error {
	return c.do(ctx, http.MethodPatch, "/logged-models/"+url.PathEscape(id)+"/tags", nil, map[string]any{"model_id": id, "tags": tags}, nil)
}

// DeleteLoggedModelTag removes a logged model's tag.
func (c *Client) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	return c.do(ctx, http.MethodDelete, "/logged-models/"+url.PathEscape(id)+"/tags/"+url.PathEscape(key), nil, nil, nil)
}

// DeleteLoggedModel deletes a logged model.
func (c *Client) DeleteLoggedModel(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/logged-models/"+url.PathEscape(id), nil, nil, nil)
}

// OrderByField is one key of a logged-model search's order.
type OrderByField struct {
	FieldName string `json:"field_name"`
	Ascending bool   `json:"ascending"`
}

// SearchLoggedModelsRequest is logged-models/search's body.
type SearchLoggedModelsRequest struct {
	ExperimentIDs []string       `json:"experiment_ids"`
	Filter        string         `json:"filter,omitempty"`
	OrderBy       []OrderByField `json:"order_by,omitempty"`
	MaxResults    int64          `json:"max_results,omitempty"`
	PageToken     string         `json:"page_token,omitempty"`
}

// SearchLoggedModels returns a page of logged models.
func (c *Client) SearchLoggedModels(ctx context.Context, req SearchLoggedModelsRequest) ([]LoggedModel, string, error) {
	var out struct {
		Models        []LoggedModel `json:"models"`
		NextPageToken string        `json:"next_page_token"`
	}
	err := c.do(ctx, http.MethodPost, "/logged-models/search", nil, req, &out)
	return out.Models, out.NextPageToken, err
}
