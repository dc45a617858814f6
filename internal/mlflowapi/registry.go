package mlflowapi

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/httpapi"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/tracking"
)

// registryRequest is the union of the registry calls' fields.
type registryRequest struct {
	Name                    string     `json:"name"`
	NewName                 string     `json:"new_name"`
	Description             string     `json:"description"`
	Version                 string     `json:"version"`
	Key                     string     `json:"key"`
	Value                   string     `json:"value"`
	Alias                   string     `json:"alias"`
	Stage                   string     `json:"stage"`
	ArchiveExistingVersions bool       `json:"archive_existing_versions"`
	Stages                  []string   `json:"stages"`
	Tags                    []keyValue `json:"tags"`
	Source                  string     `json:"source"`
	RunID                   string     `json:"run_id"`
	RunLink                 string     `json:"run_link"`
	ModelID                 string     `json:"model_id"`
	Filter                  string     `json:"filter"`
	MaxResults              int64      `json:"max_results"`
	OrderBy                 []string   `json:"order_by"`
	PageToken               string     `json:"page_token"`
}

func (a *API) registryRequest(c echo.Context) (registryRequest, error) {
	var req registryRequest
	var err error
	if c.Request().Method == "GET" {
		err = bindQuery(c, &req)
	} else {
		var body struct {
			registryRequest
			MaxResults num `json:"max_results"`
		}
		err = bind(c, &body)
		req = body.registryRequest
		req.MaxResults = int64(body.MaxResults)
	}
	if err != nil {
		return req, err
	}
	target := "mlflow/registered-models/" + req.Name
	if req.Version != "" {
		target += "/versions/" + req.Version
	}
	httpapi.SetAuditTarget(c, target)
	return req, nil
}

func (a *API) createRegisteredModel(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := required("name", req.Name); err != nil {
		return err
	}
	m, err := a.registry.CreateRegisteredModel(c.Request().Context(), principal(c), req.Name, req.Description, tagsIn(req.Tags))
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"registered_model": modelOut(m)})
}

func (a *API) getRegisteredModel(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	m, err := a.registry.GetRegisteredModel(c.Request().Context(), principal(c), req.Name)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"registered_model": modelOut(m)})
}

func (a *API) renameRegisteredModel(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := required("new_name", req.NewName); err != nil {
		return err
	}
	m, err := a.registry.RenameRegisteredModel(c.Request().Context(), principal(c), req.Name, req.NewName)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"registered_model": modelOut(m)})
}

func (a *API) updateRegisteredModel(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	m, err := a.registry.UpdateRegisteredModel(c.Request().Context(), principal(c), req.Name, req.Description)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"registered_model": modelOut(m)})
}

func (a *API) deleteRegisteredModel(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := a.registry.DeleteRegisteredModel(c.Request().Context(), principal(c), req.Name); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) searchRegisteredModels(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	f, obs, err := parseSearch(req.Filter, req.OrderBy)
	if err != nil {
		return err
	}
	ms, next, err := a.registry.SearchRegisteredModels(c.Request().Context(), principal(c), modelregistry.ModelQuery{Filter: f, OrderBy: obs,
		MaxResults: int(req.MaxResults), PageToken: req.PageToken})
	if err != nil {
		return err
	}
	out := struct {
		RegisteredModels []registeredModelJSON `json:"registered_models,omitempty"`
		NextPageToken    string                `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, m := range ms {
		out.RegisteredModels = append(out.RegisteredModels, modelOut(m))
	}
	return reply(c, out)
}

func (a *API) getLatestVersions(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	vs, err := a.registry.LatestVersions(c.Request().Context(), principal(c), req.Name, req.Stages)
	if err != nil {
		return err
	}
	return reply(c, struct {
		ModelVersions []modelVersionJSON `json:"model_versions,omitempty"`
	}{versionsOut(vs)})
}

func (a *API) setRegisteredModelTag(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	if err := a.registry.SetRegisteredModelTag(c.Request().Context(), principal(c), req.Name, tracking.Tag{Key: req.Key, Value: req.Value}); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) deleteRegisteredModelTag(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := a.registry.DeleteRegisteredModelTag(c.Request().Context(), principal(c), req.Name, req.Key); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) setAlias(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := a.registry.SetAlias(c.Request().Context(), principal(c), req.Name, req.Alias, req.Version); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) deleteAlias(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := a.registry.DeleteAlias(c.Request().Context(), principal(c), req.Name, req.Alias); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) getVersionByAlias(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	v, err := a.registry.GetVersionByAlias(c.Request().Context(), principal(c), req.Name, req.Alias)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"model_version": versionOut(v)})
}

func (a *API) createModelVersion(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := required("name", req.Name); err != nil {
		return err
	}
	v, err := a.registry.CreateModelVersion(c.Request().Context(), principal(c), modelregistry.CreateVersionRequest{Name: req.Name,
		Source: req.Source, RunID: req.RunID, RunLink: req.RunLink, Description: req.Description, ModelID: req.ModelID, Tags: tagsIn(req.Tags)})
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(c, "mlflow/registered-models/"+req.Name+"/versions/"+strconv.FormatInt(v.Version, 10))
	return reply(c, map[string]any{"model_version": versionOut(v)})
}

func (a *API) getModelVersion(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	v, err := a.registry.GetModelVersion(c.Request().Context(), principal(c), req.Name, req.Version)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"model_version": versionOut(v)})
}

func (a *API) updateModelVersion(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	v, err := a.registry.UpdateModelVersion(c.Request().Context(), principal(c), req.Name, req.Version, req.Description)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"model_version": versionOut(v)})
}

func (a *API) deleteModelVersion(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := a.registry.DeleteModelVersion(c.Request().Context(), principal(c), req.Name, req.Version); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) searchModelVersions(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	f, obs, err := parseSearch(req.Filter, req.OrderBy)
	if err != nil {
		return err
	}
	vs, next, err := a.registry.SearchModelVersions(c.Request().Context(), principal(c), modelregistry.VersionQuery{Filter: f, OrderBy: obs,
		MaxResults: int(req.MaxResults), PageToken: req.PageToken})
	if err != nil {
		return err
	}
	return reply(c, struct {
		ModelVersions []modelVersionJSON `json:"model_versions,omitempty"`
		NextPageToken string             `json:"next_page_token,omitempty"`
	}{versionsOut(vs), next})
}

func (a *API) transitionStage(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	v, err := a.registry.TransitionStage(c.Request().Context(), principal(c), req.Name, req.Version, req.Stage, req.ArchiveExistingVersions)
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"model_version": versionOut(v)})
}

func (a *API) getDownloadURI(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	uri, err := a.registry.DownloadURI(c.Request().Context(), principal(c), req.Name, req.Version)
	if err != nil {
		return err
	}
	return reply(c, map[string]string{"artifact_uri": uri})
}

func (a *API) setModelVersionTag(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := required("key", req.Key); err != nil {
		return err
	}
	if err := a.registry.SetModelVersionTag(c.Request().Context(), principal(c), req.Name, req.Version, tracking.Tag{Key: req.Key, Value: req.Value}); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) deleteModelVersionTag(c echo.Context) error {
	req, err := a.registryRequest(c)
	if err != nil {
		return err
	}
	if err := a.registry.DeleteModelVersionTag(c.Request().Context(), principal(c), req.Name, req.Version, req.Key); err != nil {
		return err
	}
	return reply(c, empty)
}
