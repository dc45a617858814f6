package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/datasets"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
)

// Datasets is the dataset service as the handlers use it.
type Datasets interface {
	Register(ctx context.Context, p identity.Principal, req datasets.RegisterRequest) (datasets.Version, bool, error)
	Get(ctx context.Context, p identity.Principal, name string) (datasets.Dataset, error)
	GetVersion(ctx context.Context, p identity.Principal, name string, version int) (datasets.Version, error)
	List(ctx context.Context, p identity.Principal, team string, page pagination.Page) ([]datasets.Dataset, string, error)
}

func (s *Server) datasets() (Datasets, error) {
	if s.Datasets == nil {
		return nil, fault.New(fault.ErrUnavailable, "datasets are not configured on this server")
	}
	return s.Datasets, nil
}

// ListDatasets returns a page of datasets.
func (s *Server) ListDatasets(c echo.Context, params api.ListDatasetsParams) error {
	svc, err := s.datasets()
	if err != nil {
		return err
	}
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	ds, next, err := svc.List(c.Request().Context(), principal(c), deref(params.Team), page)
	if err != nil {
		return err
	}
	out := api.DatasetList{Items: make([]api.Dataset, len(ds)), NextPageToken: strPtr(next)}
	for i, d := range ds {
		out.Items[i] = datasetOut(d)
	}
	return writeJSON(c, http.StatusOK, out)
}

// RegisterDataset registers a dataset version (201), or returns the one
// with the same content (200).
func (s *Server) RegisterDataset(c echo.Context, _ api.RegisterDatasetParams) error {
	svc, err := s.datasets()
	if err != nil {
		return err
	}
	var in api.DatasetRegister
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	setAuditTarget(c, "datasets/"+in.Name)
	req := datasets.RegisterRequest{Team: in.Team, Project: deref(in.Project), Name: in.Name, URI: in.Uri, ContentHash: in.ContentHash,
		Description: deref(in.Description), RowCount: in.RowCount}
	if in.Schema != nil {
		req.Schema = make([]datasets.Column, len(*in.Schema))
		for i, col := range *in.Schema {
			req.Schema[i] = datasets.Column{Name: deref(col.Name), Type: col.Type, Optional: deref(col.Optional)}
		}
	}
	if in.Profile != nil {
		req.Profile = &datasets.Profile{DuplicateRows: in.Profile.DuplicateRows}
		for _, col := range deref(in.Profile.Columns) {
			req.Profile.Columns = append(req.Profile.Columns, datasets.ColumnProfile{Name: col.Name, Nulls: col.Nulls, Distinct: col.Distinct,
				Min: col.Min, Max: col.Max})
		}
	}
	v, created, err := svc.Register(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/datasets/"+v.Name+"/versions/"+strconv.Itoa(v.Version))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(c, status, datasetVersionOut(v))
}

// GetDataset returns a dataset with its versions.
func (s *Server) GetDataset(c echo.Context, name api.DatasetName) error {
	svc, err := s.datasets()
	if err != nil {
		return err
	}
	d, err := svc.Get(c.Request().Context(), principal(c), name)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, datasetOut(d))
}

// GetDatasetVersion returns one version with its quality report.
func (s *Server) GetDatasetVersion(c echo.Context, name api.DatasetName, version int) error {
	svc, err := s.datasets()
	if err != nil {
		return err
	}
	v, err := svc.GetVersion(c.Request().Context(), principal(c), name, version)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, datasetVersionOut(v))
}

func datasetOut(d datasets.Dataset) api.Dataset {
	out := api.Dataset{Name: d.Name, Team: d.Team, Versions: make([]api.DatasetVersion, len(d.Versions))}
	for i, v := range d.Versions {
		out.Versions[i] = datasetVersionOut(v)
	}
	return out
}

func datasetVersionOut(v datasets.Version) api.DatasetVersion {
	out := api.DatasetVersion{Name: v.Name, Team: v.Team, Project: strPtr(v.Project), Version: v.Version, Uri: v.URI, ContentHash: v.ContentHash,
		Description: strPtr(v.Description), RowCount: v.RowCount, CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy,
		Quality: api.QualityReport{Status: api.QualityReportStatus(v.Quality.Status)}}
	out.Quality.Checks = make([]struct {
		Actual   *string `json:"actual,omitempty"`
		Check    string  `json:"check"`
		Column   *string `json:"column,omitempty"`
		Expected *string `json:"expected,omitempty"`
		Message  string  `json:"message"`
		Passed   bool    `json:"passed"`
	}, len(v.Quality.Checks))
	for i, ch := range v.Quality.Checks {
		q := &out.Quality.Checks[i]
		q.Check, q.Column, q.Expected, q.Actual, q.Passed, q.Message = ch.Check, strPtr(ch.Column), strPtr(ch.Expected), strPtr(ch.Actual), ch.Passed, ch.Message
	}
	if v.Schema != nil {
		cols := make([]api.ColumnSpec, len(v.Schema))
		for i, col := range v.Schema {
			cols[i] = api.ColumnSpec{Name: strPtr(col.Name), Type: col.Type}
			if col.Optional {
				cols[i].Optional = &v.Schema[i].Optional
			}
		}
		out.Schema = &cols
	}
	if v.Profile != nil {
		p := &api.DatasetProfile{DuplicateRows: v.Profile.DuplicateRows}
		if len(v.Profile.Columns) > 0 {
			cols := make([]struct {
				Distinct *int64   `json:"distinct,omitempty"`
				Max      *float64 `json:"max,omitempty"`
				Min      *float64 `json:"min,omitempty"`
				Name     string   `json:"name"`
				Nulls    *int64   `json:"nulls,omitempty"`
			}, len(v.Profile.Columns))
			for i, col := range v.Profile.Columns {
				cols[i].Name, cols[i].Nulls, cols[i].Distinct, cols[i].Min, cols[i].Max = col.Name, col.Nulls, col.Distinct, col.Min, col.Max
			}
			p.Columns = &cols
		}
		out.Profile = p
	}
	return out
}
