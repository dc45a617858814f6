package httpapi

// The dataset, approval, history, lineage and docs operations are in the
// OpenAPI document ahead of their implementation (internal/models and
// internal/datasets, being built); until then they answer 503.

import (
	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
)

func notYet(what string) error {
	return fault.New(fault.ErrUnavailable, "%s is not available on this mlportal server yet; use the MLflow API (/api/2.0/mlflow/) meanwhile", what)
}

func (s *Server) GetModelDocs(echo.Context, api.ModelName) error { return notYet("model docs") }
func (s *Server) GetModelHistory(echo.Context, api.ModelName, api.GetModelHistoryParams) error {
	return notYet("model history")
}
func (s *Server) GetModelLineage(echo.Context, api.ModelName) error { return notYet("lineage") }
func (s *Server) SetModelVersionApproval(echo.Context, api.ModelName, api.ModelVersionNumber) error {
	return notYet("approvals")
}
