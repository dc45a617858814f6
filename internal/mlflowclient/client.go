package mlflowclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
)

// Config says where the MLflow server is and how to reach it.
type Config struct {
	// URL is the tracking server's base URL (scheme, host, optional path
	// prefix), without /api/2.0.
	URL string
	// Token is sent as `Authorization: Bearer <token>` when set.
	Token string
	// Username and Password are sent as basic auth when Token is unset.
	Username, Password string
	// Timeout bounds each request (every retry too); 0 means 30s.
	Timeout time.Duration
	// Retries is how many times a failed read is retried; 0 means 3, a
	// negative value none.
	Retries int
	// HTTP is the transport; nil means a client of its own.
	HTTP *http.Client
}

// Client calls one MLflow server. It is safe for concurrent use.
type Client struct {
	base    string
	cfg     Config
	http    *http.Client
	backoff time.Duration
}

// New returns a client for cfg.URL.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mlflow tracking URI %q: want http(s)://host[:port][/prefix]", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: strings.TrimRight(cfg.URL, "/") + "/api/2.0/mlflow", cfg: cfg, http: hc, backoff: 200 * time.Millisecond}, nil
}

// apiError is MLflow's error body.
type apiError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// kinds maps MLflow's error codes (databricks.proto) to fault kinds.
var kinds = map[string]error{
	"RESOURCE_DOES_NOT_EXIST":  fault.ErrNotFound,
	"NOT_FOUND":                fault.ErrNotFound,
	"ENDPOINT_NOT_FOUND":       fault.ErrNotFound,
	"RESOURCE_ALREADY_EXISTS":  fault.ErrAlreadyExists,
	"INVALID_PARAMETER_VALUE":  fault.ErrInvalid,
	"BAD_REQUEST":              fault.ErrInvalid,
	"MALFORMED_REQUEST":        fault.ErrInvalid,
	"INVALID_STATE":            fault.ErrInvalid,
	"RESOURCE_CONFLICT":        fault.ErrConflict,
	"ABORTED":                  fault.ErrConflict,
	"PERMISSION_DENIED":        fault.ErrPermissionDenied,
	"UNAUTHENTICATED":          fault.ErrUnauthenticated,
	"RESOURCE_EXHAUSTED":       fault.ErrUnavailable,
	"REQUEST_LIMIT_EXCEEDED":   fault.ErrUnavailable,
	"TEMPORARILY_UNAVAILABLE":  fault.ErrUnavailable,
	"INTERNAL_ERROR":           fault.ErrUnavailable,
	"FEATURE_DISABLED":         fault.ErrInvalid,
	"CUSTOMER_UNAUTHORIZED":    fault.ErrPermissionDenied,
	"RESOURCE_LIMIT_EXCEEDED":  fault.ErrInvalid,
	"INVALID_STATE_TRANSITION": fault.ErrInvalid,
}

// Code returns the MLflow error code err carries ("" if none).
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Error is a failure the MLflow server reported. It unwraps to a
// *fault.Error whose message keeps MLflow's code, e.g.
// "MLflow server: Run 'x' not found (RESOURCE_DOES_NOT_EXIST)".
type Error struct {
	Code   string
	Status int
	fault  *fault.Error
}

func (e *Error) Error() string { return e.fault.Error() }

// Unwrap returns the fault error, so errors.Is(err, fault.ErrNotFound) holds.
func (e *Error) Unwrap() error { return e.fault }

func mapError(status int, body []byte) error {
	var ae apiError
	if json.Unmarshal(body, &ae) != nil || ae.ErrorCode == "" {
		ae.ErrorCode = http.StatusText(status)
		ae.Message = strings.TrimSpace(string(body))
		if len(ae.Message) > 300 {
			ae.Message = ae.Message[:300] + "…"
		}
	}
	kind, ok := kinds[ae.ErrorCode]
	if !ok {
		switch {
		case status == http.StatusNotFound:
			kind = fault.ErrNotFound
		case status == http.StatusUnauthorized:
			kind = fault.ErrUnauthenticated
		case status == http.StatusForbidden:
			kind = fault.ErrPermissionDenied
		case status >= 400 && status < 500:
			kind = fault.ErrInvalid
		default:
			kind = fault.ErrUnavailable
		}
	}
	msg := fmt.Sprintf("MLflow server: %s (%s)", ae.Message, ae.ErrorCode)
	if kind == fault.ErrUnauthenticated || kind == fault.ErrPermissionDenied {
		msg += "; check mlportal.mlflow.token or username/password"
	}
	return &Error{Code: ae.ErrorCode, Status: status, fault: fault.New(kind, "%s", msg)}
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// do sends one API call: GET with query parameters, other verbs with a
// JSON body. It decodes a 200's body into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	attempts := 1
	if method == http.MethodGet && c.cfg.Retries > 0 {
		attempts += c.cfg.Retries
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(last, ctx.Err())
			case <-time.After(c.backoff << (i - 1)):
			}
		}
		status, b, err := c.once(ctx, method, path, query, payload)
		switch {
		case err != nil:
			last = fault.New(fault.ErrUnavailable, "MLflow server at %s is unreachable (%v); check mlportal.mlflow.trackingUri", c.cfg.URL, err)
			if ctx.Err() != nil {
				return last
			}
			continue
		case status == http.StatusOK:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(b, out); err != nil {
				return fmt.Errorf("decode MLflow's answer to %s %s: %w", method, path, err)
			}
			return nil
		}
		last = mapError(status, b)
		if !retryable(status) {
			return last
		}
	}
	return last
}

func (c *Client) once(ctx context.Context, method, path string, query url.Values, payload []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader = http.NoBody
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case c.cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	case c.cfg.Username != "":
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// Ping checks the server answers its health endpoint.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.cfg.URL, "/")+"/health", nil)
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fault.New(fault.ErrUnavailable, "MLflow server at %s is unreachable (%v); check mlportal.mlflow.trackingUri", c.cfg.URL, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fault.New(fault.ErrUnavailable, "MLflow server at %s answered /health with %s", c.cfg.URL, res.Status)
	}
	return nil
}
