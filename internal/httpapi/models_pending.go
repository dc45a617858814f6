package httpapi

// The registry, lineage, dataset and change-feed operations are in the
// OpenAPI document ahead of their implementation (internal/models, being
// built); until then they answer 503 with what is missing.

import (
	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
)

func notYet(what string) error {
	return fault.New(fault.ErrUnavailable, "%s is not available on this mlportal server yet; use the MLflow API (/api/2.0/mlflow/) meanwhile", what)
}

func (s *Server) ListChanges(echo.Context, api.ListChangesParams) error {
	return notYet("the change feed")
}
func (s *Server) ListDatasets(echo.Context, api.ListDatasetsParams) error { return notYet("datasets") }
func (s *Server) RegisterDataset(echo.Context, api.RegisterDatasetParams) error {
	return notYet("datasets")
}
func (s *Server) GetDataset(echo.Context, api.DatasetName) error { return notYet("datasets") }
func (s *Server) GetDatasetVersion(echo.Context, api.DatasetName, int) error {
	return notYet("datasets")
}
func (s *Server) ListModels(echo.Context, api.ListModelsParams) error {
	return notYet("the model catalog")
}
func (s *Server) GetModel(echo.Context, api.ModelName) error     { return notYet("the model catalog") }
func (s *Server) GetModelDocs(echo.Context, api.ModelName) error { return notYet("model docs") }
func (s *Server) GetModelHistory(echo.Context, api.ModelName, api.GetModelHistoryParams) error {
	return notYet("model history")
}
func (s *Server) GetModelLineage(echo.Context, api.ModelName) error { return notYet("lineage") }
func (s *Server) ListModelVersions(echo.Context, api.ModelName, api.ListModelVersionsParams) error {
	return notYet("the model catalog")
}
func (s *Server) GetModelVersion(echo.Context, api.ModelName, api.ModelVersionNumber) error {
	return notYet("the model catalog")
}
func (s *Server) SetModelVersionApproval(echo.Context, api.ModelName, api.ModelVersionNumber) error {
	return notYet("approvals")
}
