package mlflowapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/config"
	"github.com/mlportal/mlportal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const adminToken = "root-admin-token"

// portal is a running mlportal with a team "ml" and a write token of it.
type portal struct {
	t     testing.TB
	url   string
	token string // team-scoped read+write token of team ml
	cfg   config.Config
}

// start runs mlportal on SQLite, or on a fresh PostgreSQL database when pg
// is set (integration tier only).
func start(t testing.TB, pg bool) *portal {
	t.Helper()
	return startWith(t, func(cfg *config.Config) {
		if pg {
			cfg.Database.Driver, cfg.Database.DSN = config.DriverPostgres, testenv.Postgres(t)
		}
	})
}

// startWith starts mlportal with edit applied to its configuration.
func startWith(t testing.TB, edit func(*config.Config)) *portal {
	t.Helper()
	srv := apptest.Start(t, app.Options{AdminToken: adminToken}, edit)
	p := &portal{t: t, url: srv.URL, cfg: srv.Config}
	p.call(adminToken, "POST", "/api/v1/teams", map[string]any{"name": "ml"}, 201, nil)
	p.call(adminToken, "POST", "/api/v1/teams", map[string]any{"name": "other"}, 201, nil)
	var tok struct{ Token string }
	p.call(adminToken, "POST", "/api/v1/tokens", map[string]any{"name": "mlflow", "team": "ml", "verbs": []string{"read", "write"}}, 201, &tok)
	p.token = tok.Token
	return p
}

// call sends a JSON request (GET: query already in path) and decodes the
// response into out, failing unless the status is want.
func (p *portal) call(token, method, path string, body any, want int, out any) []byte {
	p.t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		p.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

// mlflow calls an MLflow endpoint with the team token.
func (p *portal) mlflow(method, path string, body any, want int, out any) []byte {
	p.t.Helper()
	return p.call(p.token, method, "/api/2.0/mlflow/"+path, body, want, out)
}
