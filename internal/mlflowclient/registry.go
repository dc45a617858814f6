package mlflowclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CreateRegisteredModel creates a registered model.
func (c *Client) CreateRegisteredModel(ctx context.Context, name, description string, tags []Tag) (RegisteredModel, error) {
	var out struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
	}
	err := c.do(ctx, http.MethodPost, "/registered-models/create", nil,
		map[string]any{"name": name, "description": description, "tags": tags}, &out)
	return out.RegisteredModel, err
}

// GetRegisteredModel returns a registered model.
func (c *Client) GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error) {
	var out struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
	}
	err := c.do(ctx, http.MethodGet, "/registered-models/get", url.Values{"name": {name}}, nil, &out)
	return out.RegisteredModel, err
}

// RenameRegisteredModel renames a registered model.
func (c *Client) RenameRegisteredModel(ctx context.Context, name, newName string) error {
	return c.do(ctx, http.MethodPost, "/registered-models/rename", nil, map[string]any{"name": name, "new_name": newName}, nil)
}

// UpdateRegisteredModel sets a registered model's description.
func (c *Client) UpdateRegisteredModel(ctx context.Context, name, description string) error {
	return c.do(ctx, http.MethodPatch, "/registered-models/update", nil, map[string]any{"name": name, "description": description}, nil)
}

// DeleteRegisteredModel deletes a registered model and its versions.
func (c *Client) DeleteRegisteredModel(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/registered-models/delete", nil, map[string]any{"name": name}, nil)
}

// SearchRequest is the query of registered-models/search and model-versions/search.
type SearchRequest struct {
	Filter     string
	OrderBy    []string
	MaxResults int64
	PageToken  string
}

func (r SearchRequest) values() url.Values {
	q := url.Values{}
	if r.Filter != "" {
		q.Set("filter", r.Filter)
	}
	for _, o := range r.OrderBy {
		q.Add("order_by", o)
	}
	if r.MaxResults > 0 {
		q.Set("max_results", strconv.FormatInt(r.MaxResults, 10))
	}
	if r.PageToken != "" {
		q.Set("page_token", r.PageToken)
	}
	return q
}

// SearchRegisteredModels returns a page of registered models.
func (c *Client) SearchRegisteredModels(ctx context.Context, req SearchRequest) ([]RegisteredModel, string, error) {
	var out struct {
		RegisteredModels []RegisteredModel `json:"registered_models"`
		NextPageToken    string            `json:"next_page_token"`
	}
	err := c.do(ctx, http.MethodGet, "/registered-models/search", req.values(), nil, &out)
	return out.RegisteredModels, out.NextPageToken, err
}

// SetRegisteredModelTag sets a tag on a registered model.
func (c *Client) SetRegisteredModelTag(ctx context.Context, name string, t Tag) error {
	return c.do(ctx, http.MethodPost, "/registered-models/set-tag", nil, map[string]any{"name": name, "key": t.Key, "value": t.Value}, nil)
}

// DeleteRegisteredModelTag removes a registered model's tag.
func (c *Client) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return c.do(ctx, http.MethodDelete, "/registered-models/delete-tag", nil, map[string]any{"name": name, "key": key}, nil)
}

// CreateModelVersionRequest is model-versions/create's body.
type CreateModelVersionRequest struct {
	Name        string `json:"name"`
	Source      string `json:"source"`
	RunID       string `json:"run_id,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
	RunLink     string `json:"run_link,omitempty"`
	Description string `json:"description,omitempty"`
	ModelID     string `json:"model_id,omitempty"`
}

// CreateModelVersion registers a version; the server numbers it.
func (c *Client) CreateModelVersion(ctx context.Context, req CreateModelVersionRequest) (ModelVersion, error) {
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	err := c.do(ctx, http.MethodPost, "/model-versions/create", nil, req, &out)
	return out.ModelVersion, err
}

func version(v int64) string { return strconv.FormatInt(v, 10) }

// GetModelVersion returns a version.
func (c *Client) GetModelVersion(ctx context.Context, name string, v int64) (ModelVersion, error) {
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	err := c.do(ctx, http.MethodGet, "/model-versions/get", url.Values{"name": {name}, "version": {version(v)}}, nil, &out)
	return out.ModelVersion, err
}

// UpdateModelVersion sets a version's description.
func (c *Client) UpdateModelVersion(ctx context.Context, name string, v int64, description string) error {
	return c.do(ctx, http.MethodPatch, "/model-versions/update", nil,
		map[string]any{"name": name, "version": version(v), "description": description}, nil)
}

// DeleteModelVersion deletes a version.
func (c *Client) DeleteModelVersion(ctx context.Context, name string, v int64) error {
	return c.do(ctx, http.MethodDelete, "/model-versions/delete", nil, map[string]any{"name": name, "version": version(v)}, nil)
}

// TransitionStage moves a version to a stage (MLflow's deprecated stages).
func (c *Client) TransitionStage(ctx context.Context, name string, v int64, stage string, archiveExisting bool) (ModelVersion, error) {
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	err := c.do(ctx, http.MethodPost, "/model-versions/transition-stage", nil,
		map[string]any{"name": name, "version": version(v), "stage": stage, "archive_existing_versions": archiveExisting}, &out)
	return out.ModelVersion, err
}

// SearchModelVersions returns a page of versions.
func (c *Client) SearchModelVersions(ctx context.Context, req SearchRequest) ([]ModelVersion, string, error) {
	var out struct {
		ModelVersions []ModelVersion `json:"model_versions"`
		NextPageToken string         `json:"next_page_token"`
	}
	err := c.do(ctx, http.MethodGet, "/model-versions/search", req.values(), nil, &out)
	return out.ModelVersions, out.NextPageToken, err
}

// LatestVersions returns the newest version of each stage (all when none).
func (c *Client) LatestVersions(ctx context.Context, name string, stages []string) ([]ModelVersion, error) {
	var out struct {
		ModelVersions []ModelVersion `json:"model_versions"`
	}
	err := c.do(ctx, http.MethodPost, "/registered-models/get-latest-versions", nil, map[string]any{"name": name, "stages": stages}, &out)
	return out.ModelVersions, err
}

// SetModelVersionTag sets a version's tag.
func (c *Client) SetModelVersionTag(ctx context.Context, name string, v int64, t Tag) error {
	return c.do(ctx, http.MethodPost, "/model-versions/set-tag", nil,
		map[string]any{"name": name, "version": version(v), "key": t.Key, "value": t.Value}, nil)
}

// DeleteModelVersionTag removes a version's tag.
func (c *Client) DeleteModelVersionTag(ctx context.Context, name string, v int64, key string) error {
	return c.do(ctx, http.MethodDelete, "/model-versions/delete-tag", nil, map[string]any{"name": name, "version": version(v), "key": key}, nil)
}

// SetAlias points an alias at a version.
func (c *Client) SetAlias(ctx context.Context, name, alias string, v int64) error {
	return c.do(ctx, http.MethodPost, "/registered-models/alias", nil, map[string]any{"name": name, "alias": alias, "version": version(v)}, nil)
}

// DeleteAlias removes an alias.
func (c *Client) DeleteAlias(ctx context.Context, name, alias string) error {
	return c.do(ctx, http.MethodDelete, "/registered-models/alias", nil, map[string]any{"name": name, "alias": alias}, nil)
}

// GetVersionByAlias resolves an alias.
func (c *Client) GetVersionByAlias(ctx context.Context, name, alias string) (ModelVersion, error) {
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	err := c.do(ctx, http.MethodGet, "/registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, nil, &out)
	return out.ModelVersion, err
}

// ParseVersion reads MLflow's string version number.
func ParseVersion(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n
}
