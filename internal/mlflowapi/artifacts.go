package mlflowapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/httpapi"
)

// schemeRoot is the URI scheme of artifacts served by this API.
const schemeRoot = "mlflow-artifacts:/"

func (a *API) store() (artifact.Store, error) {
	if a.artifacts == nil {
		return nil, fault.New(fault.ErrUnavailable, "this mlportal has no artifact store configured")
	}
	return a.artifacts, nil
}

// artifactPath is the path after /mlflow-artifacts/artifacts/, unescaped.
func artifactPath(c echo.Context) string {
	p := c.Param("*")
	if strings.Contains(p, "%") {
		if unescaped, err := url.PathUnescape(p); err == nil {
			return unescaped
		}
	}
	return p
}

func (a *API) uploadArtifact(c echo.Context) error {
	st, err := a.store()
	if err != nil {
		return err
	}
	p, err := a.tracking.ArtifactPath(c.Request().Context(), principal(c), artifactPath(c), true)
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(c, "mlflow/artifacts/"+p)
	obj, err := st.Put(c.Request().Context(), p, c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return err
	}
	c.Response().Header().Set("X-Mlportal-Digest", obj.Digest)
	return reply(c, empty)
}

func (a *API) downloadArtifact(c echo.Context) error {
	st, err := a.store()
	if err != nil {
		return err
	}
	p, err := a.tracking.ArtifactPath(c.Request().Context(), principal(c), artifactPath(c), false)
	if err != nil {
		return err
	}
	rc, obj, err := st.Open(c.Request().Context(), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/octet-stream")
	h.Set(echo.HeaderContentLength, strconv.FormatInt(obj.Size, 10))
	h.Set("X-Mlportal-Digest", obj.Digest)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+path.Base(p)+`"`)
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), rc); err != nil {
		// The status is sent; the client sees a short body. Log why.
		a.log.Warn("artifact download broken off", "path", p, "err", err)
	}
	return nil
}

func (a *API) deleteArtifact(c echo.Context) error {
	st, err := a.store()
	if err != nil {
		return err
	}
	p, err := a.tracking.ArtifactPath(c.Request().Context(), principal(c), artifactPath(c), true)
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(c, "mlflow/artifacts/"+p)
	if err := st.Delete(c.Request().Context(), p); err != nil {
		return err
	}
	return reply(c, empty)
}

type fileInfoJSON struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size,omitempty"`
}

// listArtifacts lists a directory of the proxied store; paths are base
// names, as MLflow's server answers.
func (a *API) listArtifacts(c echo.Context) error {
	st, err := a.store()
	if err != nil {
		return err
	}
	var req struct {
		Path string `json:"path"`
	}
	if err := bindQuery(c, &req); err != nil {
		return err
	}
	p, err := a.tracking.ArtifactPath(c.Request().Context(), principal(c), req.Path, false)
	if err != nil {
		return err
	}
	entries, err := st.List(c.Request().Context(), p)
	if err != nil {
		return err
	}
	out := struct {
		Files []fileInfoJSON `json:"files,omitempty"`
	}{}
	for _, e := range entries {
		out.Files = append(out.Files, fileInfoJSON{Path: path.Base(e.Path), IsDir: e.IsDir, FileSize: e.Size})
	}
	return reply(c, out)
}

// listRunArtifacts answers GET /mlflow/artifacts/list: a run's artifacts
// under path, with paths relative to the run's artifact root.
func (a *API) listRunArtifacts(c echo.Context) error {
	st, err := a.store()
	if err != nil {
		return err
	}
	var req struct {
		RunID   string `json:"run_id"`
		RunUUID string `json:"run_uuid"`
		Path    string `json:"path"`
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
	r, err := a.tracking.GetRun(c.Request().Context(), principal(c), req.RunID)
	if err != nil {
		return err
	}
	root := strings.TrimPrefix(r.Info.ArtifactURI, schemeRoot)
	rel := strings.Trim(req.Path, "/")
	p, err := a.tracking.ArtifactPath(c.Request().Context(), principal(c), path.Join(root, rel), false)
	if err != nil {
		return err
	}
	entries, err := st.List(c.Request().Context(), p)
	if err != nil {
		return err
	}
	out := struct {
		RootURI string         `json:"root_uri"`
		Files   []fileInfoJSON `json:"files,omitempty"`
	}{RootURI: r.Info.ArtifactURI}
	for _, e := range entries {
		out.Files = append(out.Files, fileInfoJSON{Path: strings.TrimPrefix(strings.TrimPrefix(e.Path, root), "/"), IsDir: e.IsDir, FileSize: e.Size})
	}
	return reply(c, out)
}
