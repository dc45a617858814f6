package mlflowapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/httpapi"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/tracking"
)

// API serves MLflow's REST API.
type API struct {
	tracking  *tracking.Service
	registry  *modelregistry.Service
	artifacts artifact.Store
	log       *slog.Logger
}

// New returns the MLflow API over the services and the artifact store.
func New(t *tracking.Service, r *modelregistry.Service, a artifact.Store, log *slog.Logger) *API {
	return &API{tracking: t, registry: r, artifacts: a, log: log}
}

const (
	prefix          = "/api/2.0/mlflow"
	artifactsPrefix = "/api/2.0/mlflow-artifacts"
)

// Mount returns the routes and error presenter that httpapi serves.
func (a *API) Mount() httpapi.Mount {
	m := httpapi.Mount{Present: a.Present}
	add := func(method, path, action string, h echo.HandlerFunc) {
		readOnly := strings.HasPrefix(action, "search") || strings.HasPrefix(action, "get")
		m.Routes = append(m.Routes, httpapi.MountRoute{Method: method, Path: path, Action: "mlflow." + action, Handler: h, ReadOnly: readOnly})
	}
	// Experiments.
	add(http.MethodPost, prefix+"/experiments/create", "createExperiment", a.createExperiment)
	add(http.MethodGet, prefix+"/experiments/get", "getExperiment", a.getExperiment)
	add(http.MethodGet, prefix+"/experiments/get-by-name", "getExperimentByName", a.getExperimentByName)
	add(http.MethodPost, prefix+"/experiments/search", "searchExperiments", a.searchExperiments)
	add(http.MethodGet, prefix+"/experiments/search", "searchExperiments", a.searchExperiments)
	add(http.MethodPost, prefix+"/experiments/update", "updateExperiment", a.updateExperiment)
	add(http.MethodPost, prefix+"/experiments/delete", "deleteExperiment", a.deleteExperiment)
	add(http.MethodPost, prefix+"/experiments/restore", "restoreExperiment", a.restoreExperiment)
	add(http.MethodPost, prefix+"/experiments/set-experiment-tag", "setExperimentTag", a.setExperimentTag)
	add(http.MethodPost, prefix+"/experiments/delete-experiment-tag", "deleteExperimentTag", a.deleteExperimentTag)
	// Runs.
	add(http.MethodPost, prefix+"/runs/create", "createRun", a.createRun)
	add(http.MethodGet, prefix+"/runs/get", "getRun", a.getRun)
	add(http.MethodPost, prefix+"/runs/update", "updateRun", a.updateRun)
	add(http.MethodPost, prefix+"/runs/delete", "deleteRun", a.deleteRun)
	add(http.MethodPost, prefix+"/runs/restore", "restoreRun", a.restoreRun)
	add(http.MethodPost, prefix+"/runs/search", "searchRuns", a.searchRuns)
	add(http.MethodPost, prefix+"/runs/log-metric", "logMetric", a.logMetric)
	add(http.MethodPost, prefix+"/runs/log-parameter", "logParam", a.logParam)
	add(http.MethodPost, prefix+"/runs/set-tag", "setTag", a.setTag)
	add(http.MethodPost, prefix+"/runs/delete-tag", "deleteTag", a.deleteTag)
	add(http.MethodPost, prefix+"/runs/log-batch", "logBatch", a.logBatch)
	add(http.MethodPost, prefix+"/runs/log-inputs", "logInputs", a.logInputs)
	add(http.MethodPost, prefix+"/runs/outputs", "logOutputs", a.logOutputs)
	add(http.MethodPost, prefix+"/runs/log-model", "logModel", a.logModel)
	add(http.MethodGet, prefix+"/metrics/get-history", "getMetricHistory", a.getMetricHistory)
	add(http.MethodGet, prefix+"/metrics/get-history-bulk-interval", "getMetricHistoryBulkInterval", a.getMetricHistoryBulk)
	// Logged models (MLflow 3).
	add(http.MethodPost, prefix+"/logged-models", "createLoggedModel", a.createLoggedModel)
	add(http.MethodPost, prefix+"/logged-models/search", "searchLoggedModels", a.searchLoggedModels)
	add(http.MethodGet, prefix+"/logged-models/:model_id", "getLoggedModel", a.getLoggedModel)
	add(http.MethodPatch, prefix+"/logged-models/:model_id", "finalizeLoggedModel", a.finalizeLoggedModel)
	add(http.MethodDelete, prefix+"/logged-models/:model_id", "deleteLoggedModel", a.deleteLoggedModel)
	add(http.MethodPatch, prefix+"/logged-models/:model_id/tags", "setLoggedModelTags", a.setLoggedModelTags)
	add(http.MethodDelete, prefix+"/logged-models/:model_id/tags/:tag_key", "deleteLoggedModelTag", a.deleteLoggedModelTag)
	// Model registry.
	add(http.MethodPost, prefix+"/registered-models/create", "createRegisteredModel", a.createRegisteredModel)
	add(http.MethodGet, prefix+"/registered-models/get", "getRegisteredModel", a.getRegisteredModel)
	add(http.MethodPost, prefix+"/registered-models/rename", "renameRegisteredModel", a.renameRegisteredModel)
	add(http.MethodPatch, prefix+"/registered-models/update", "updateRegisteredModel", a.updateRegisteredModel)
	add(http.MethodDelete, prefix+"/registered-models/delete", "deleteRegisteredModel", a.deleteRegisteredModel)
	add(http.MethodGet, prefix+"/registered-models/search", "searchRegisteredModels", a.searchRegisteredModels)
	add(http.MethodPost, prefix+"/registered-models/get-latest-versions", "getLatestVersions", a.getLatestVersions)
	add(http.MethodGet, prefix+"/registered-models/get-latest-versions", "getLatestVersions", a.getLatestVersions)
	add(http.MethodPost, prefix+"/registered-models/set-tag", "setRegisteredModelTag", a.setRegisteredModelTag)
	add(http.MethodDelete, prefix+"/registered-models/delete-tag", "deleteRegisteredModelTag", a.deleteRegisteredModelTag)
	add(http.MethodPost, prefix+"/registered-models/alias", "setRegisteredModelAlias", a.setAlias)
	add(http.MethodDelete, prefix+"/registered-models/alias", "deleteRegisteredModelAlias", a.deleteAlias)
	add(http.MethodGet, prefix+"/registered-models/alias", "getModelVersionByAlias", a.getVersionByAlias)
	add(http.MethodPost, prefix+"/model-versions/create", "createModelVersion", a.createModelVersion)
	add(http.MethodGet, prefix+"/model-versions/get", "getModelVersion", a.getModelVersion)
	add(http.MethodPatch, prefix+"/model-versions/update", "updateModelVersion", a.updateModelVersion)
	add(http.MethodDelete, prefix+"/model-versions/delete", "deleteModelVersion", a.deleteModelVersion)
	add(http.MethodGet, prefix+"/model-versions/search", "searchModelVersions", a.searchModelVersions)
	add(http.MethodPost, prefix+"/model-versions/transition-stage", "transitionModelVersionStage", a.transitionStage)
	add(http.MethodGet, prefix+"/model-versions/get-download-uri", "getModelVersionDownloadUri", a.getDownloadURI)
	add(http.MethodPost, prefix+"/model-versions/set-tag", "setModelVersionTag", a.setModelVersionTag)
	add(http.MethodDelete, prefix+"/model-versions/delete-tag", "deleteModelVersionTag", a.deleteModelVersionTag)
	// Artifacts.
	add(http.MethodGet, prefix+"/artifacts/list", "listArtifacts", a.listRunArtifacts)
	add(http.MethodGet, artifactsPrefix+"/artifacts", "listArtifacts", a.listArtifacts)
	add(http.MethodGet, artifactsPrefix+"/artifacts/*", "downloadArtifact", a.downloadArtifact)
	add(http.MethodDelete, artifactsPrefix+"/artifacts/*", "deleteArtifact", a.deleteArtifact)
	m.Routes = append(m.Routes, httpapi.MountRoute{Method: http.MethodPut, Path: artifactsPrefix + "/artifacts/*",
		Action: "mlflow.uploadArtifact", Handler: a.uploadArtifact, Unlimited: true})
	// Anything else under the prefixes is MLflow's ENDPOINT_NOT_FOUND.
	for _, p := range []string{prefix + "/*", artifactsPrefix + "/*"} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut} {
			m.Routes = append(m.Routes, httpapi.MountRoute{Method: method, Path: p, Action: "mlflow.unknown", Handler: endpointNotFound})
		}
	}
	return m
}

var errEndpointNotFound = errors.New("endpoint not found")

func endpointNotFound(c echo.Context) error {
	return &fault.Error{Kind: errEndpointNotFound, Message: fmt.Sprintf("%s %s is not an MLflow endpoint mlportal serves", c.Request().Method, c.Request().URL.Path)}
}

var errMalformed = errors.New("malformed request")

func principal(c echo.Context) identity.Principal {
	p, _ := identity.FromContext(c.Request().Context())
	return p
}

// bind decodes the request into v: the JSON body for POST, PATCH and
// DELETE (when present), the query string for GET (and DELETE without a
// body), matching fields by their json tags.
func bind(c echo.Context, v any) error {
	req := c.Request()
	if req.Method != http.MethodGet && req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			return &fault.Error{Kind: errMalformed, Message: "the request body could not be read: " + err.Error()}
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, v); err != nil {
				return &fault.Error{Kind: errMalformed, Message: "malformed request body: " + err.Error()}
			}
			return nil
		}
	}
	return bindQuery(c, v)
}

func bindQuery(c echo.Context, v any) error {
	q := c.QueryParams()
	rv := reflect.ValueOf(v).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		vals, ok := q[name]
		if !ok || len(vals) == 0 {
			continue
		}
		fv := rv.Field(i)
		bad := func() error {
			return fault.Invalid(fmt.Sprintf("invalid value '%s' for parameter '%s'", vals[0], name), fault.Field(name, "not a valid %s", f.Type))
		}
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(vals[0])
		case reflect.Int, reflect.Int64:
			n, err := strconv.ParseInt(vals[0], 10, 64)
			if err != nil {
				return bad()
			}
			fv.SetInt(n)
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.ToLower(vals[0]))
			if err != nil {
				return bad()
			}
			fv.SetBool(b)
		case reflect.Slice:
			if fv.Type().Elem().Kind() == reflect.String {
				fv.Set(reflect.ValueOf(append([]string(nil), vals...)))
			}
		case reflect.Pointer:
			if fv.Type().Elem().Kind() == reflect.Int64 {
				n, err := strconv.ParseInt(vals[0], 10, 64)
				if err != nil {
					return bad()
				}
				fv.Set(reflect.ValueOf(&n))
			}
		}
	}
	return nil
}

// reply writes v as JSON with a Content-Length.
func reply(c echo.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
	c.Response().WriteHeader(http.StatusOK)
	_, err = c.Response().Write(b)
	return err
}

var empty = struct{}{}

// required refuses a missing parameter as MLflow does.
func required(name, value string) error {
	if value == "" {
		return fault.Invalid(fmt.Sprintf("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", name),
			fault.Field(name, "required"))
	}
	return nil
}
