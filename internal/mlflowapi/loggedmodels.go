package mlflowapi

import (
	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/httpapi"
	"github.com/mlportal/mlportal/internal/tracking"
)

func (a *API) createLoggedModel(c echo.Context) error {
	var req struct {
		ExperimentID string     `json:"experiment_id"`
		Name         string     `json:"name"`
		ModelType    string     `json:"model_type"`
		SourceRunID  string     `json:"source_run_id"`
		Params       []keyValue `json:"params"`
		Tags         []keyValue `json:"tags"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	params := make([]tracking.Param, len(req.Params))
	for i, p := range req.Params {
		params[i] = tracking.Param{Key: p.Key, Value: p.Value}
	}
	m, err := a.tracking.CreateLoggedModel(c.Request().Context(), principal(c), tracking.CreateLoggedModelRequest{ExperimentID: req.ExperimentID,
		Name: req.Name, ModelType: req.ModelType, SourceRunID: req.SourceRunID, Params: params, Tags: tagsIn(req.Tags)})
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(c, "mlflow/logged-models/"+m.ID)
	return reply(c, map[string]any{"model": loggedModelOut(m)})
}

func (a *API) getLoggedModel(c echo.Context) error {
	m, err := a.tracking.GetLoggedModel(c.Request().Context(), principal(c), c.Param("model_id"))
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"model": loggedModelOut(m)})
}

func loggedModelStatus(e enum) tracking.LoggedModelStatus {
	switch {
	case e.name != "":
		return tracking.LoggedModelStatus(e.name)
	case e.number == 2:
		return tracking.ModelReady
	case e.number == 3:
		return tracking.ModelUploadFailed
	case e.number == 1:
		return tracking.ModelPending
	}
	return ""
}

func (a *API) finalizeLoggedModel(c echo.Context) error {
	var req struct {
		Status enum `json:"status"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	id := c.Param("model_id")
	httpapi.SetAuditTarget(c, "mlflow/logged-models/"+id)
	m, err := a.tracking.FinalizeLoggedModel(c.Request().Context(), principal(c), id, loggedModelStatus(req.Status))
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"model": loggedModelOut(m)})
}

func (a *API) deleteLoggedModel(c echo.Context) error {
	id := c.Param("model_id")
	httpapi.SetAuditTarget(c, "mlflow/logged-models/"+id)
	if err := a.tracking.DeleteLoggedModel(c.Request().Context(), principal(c), id); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) setLoggedModelTags(c echo.Context) error {
	var req struct {
		Tags []keyValue `json:"tags"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	id := c.Param("model_id")
	httpapi.SetAuditTarget(c, "mlflow/logged-models/"+id)
	m, err := a.tracking.SetLoggedModelTags(c.Request().Context(), principal(c), id, tagsIn(req.Tags))
	if err != nil {
		return err
	}
	return reply(c, map[string]any{"model": loggedModelOut(m)})
}

func (a *API) deleteLoggedModelTag(c echo.Context) error {
	id := c.Param("model_id")
	httpapi.SetAuditTarget(c, "mlflow/logged-models/"+id)
	if err := a.tracking.DeleteLoggedModelTag(c.Request().Context(), principal(c), id, c.Param("tag_key")); err != nil {
		return err
	}
	return reply(c, empty)
}

func (a *API) searchLoggedModels(c echo.Context) error {
	var req struct {
		ExperimentIDs []string `json:"experiment_ids"`
		Filter        string   `json:"filter"`
		MaxResults    num      `json:"max_results"`
		OrderBy       []struct {
			FieldName string `json:"field_name"`
			Ascending *bool  `json:"ascending"`
		} `json:"order_by"`
		PageToken string `json:"page_token"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	f, err := parseFilter(req.Filter)
	if err != nil {
		return err
	}
	var obs []tracking.OrderBy
	for _, o := range req.OrderBy {
		ob, err := tracking.ParseOrderBy(o.FieldName)
		if err != nil {
			return err
		}
		ob.Desc = o.Ascending != nil && !*o.Ascending
		obs = append(obs, ob)
	}
	ms, next, err := a.tracking.SearchLoggedModels(c.Request().Context(), principal(c), tracking.LoggedModelQuery{ExperimentIDs: req.ExperimentIDs,
		Filter: f, OrderBy: obs, MaxResults: int(req.MaxResults), PageToken: req.PageToken})
	if err != nil {
		return err
	}
	out := struct {
		Models        []loggedModelJSON `json:"models,omitempty"`
		NextPageToken string            `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, m := range ms {
		out.Models = append(out.Models, loggedModelOut(m))
	}
	return reply(c, out)
}
