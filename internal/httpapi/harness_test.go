package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mlportal/mlportal/internal/app"
	"github.com/mlportal/mlportal/internal/apptest"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/config"
)

const adminToken = "test-admin-secret"

// env is a real mlportal (SQLite store, real services) behind httptest.
type env struct {
	t      testing.TB
	url    string
	clock  *clock.Fake
	bsPriv ed25519.PrivateKey
}

func newEnv(t testing.TB) *env {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	srv := apptest.Start(t, app.Options{AdminToken: adminToken, Clock: clk}, func(cfg *config.Config) {
		cfg.Server.MaxBodyBytes = 64 * 1024
		cfg.Auth.Admins = []string{"group:default/platform-admins"}
		cfg.Auth.Backstage.PublicKeys = []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	})
	return &env{t: t, url: srv.URL, clock: clk, bsPriv: priv}
}

// backstage mints the token the Backstage plugin would send for a user.
func (e *env) backstage(subject string, groups ...string) string {
	now := e.clock.Now()
	claims := jwt.MapClaims{"iss": "backstage", "aud": "mlportal", "sub": subject, "kind": "user",
		"ent": append([]string{subject}, groups...), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "x"}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(e.bsPriv)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r resp) errorCode() string {
	if m, ok := r.body["error"].(map[string]any); ok {
		c, _ := m["code"].(string)
		return c
	}
	return ""
}

func (r resp) fields() []string {
	m, _ := r.body["error"].(map[string]any)
	ds, _ := m["details"].([]any)
	var out []string
	for _, d := range ds {
		out = append(out, d.(map[string]any)["field"].(string))
	}
	return out
}

// do sends a request; body may be a string (sent raw) or a value (JSON).
func (e *env) do(method, path, token string, body any, headers ...string) resp {
	e.t.Helper()
	return e.doT(e.t, method, path, token, body, headers...)
}

// doT is do reporting failures to t (a fuzz target's own T).
func (e *env) doT(t testing.TB, method, path, token string, body any, headers ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// must fails the test unless the response has the wanted status.
func (r resp) must(t testing.TB, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// issue creates an mlportal token as the given caller.
func (e *env) issue(as string, body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/tokens", as, body).must(e.t, 201)
	return r.body["token"].(string)
}
