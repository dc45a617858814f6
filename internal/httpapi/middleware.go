package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/audit"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/idempotency"
	"github.com/mlportal/mlportal/internal/identity"
)

// Idempotency is the idempotency-key service as the middleware uses it.
type Idempotency interface {
	Begin(ctx context.Context, key, requestHash string) (*idempotency.Response, error)
	Finish(ctx context.Context, key string, resp idempotency.Response) error
	Abandon(ctx context.Context, key string) error
}

const (
	headerRequestID   = "X-Request-Id"
	keyRequestID      = "mlportal.requestID"
	keyAuditTarget    = "mlportal.auditTarget"
	headerIdempotency = "Idempotency-Key"
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func requestID(c echo.Context) string {
	id, _ := c.Get(keyRequestID).(string)
	return id
}

// setAuditTarget names the resource a handler acted on when the path does not.
func setAuditTarget(c echo.Context, target string) { c.Set(keyAuditTarget, target) }

// observe assigns the request id, then logs and measures every request. It
// resolves handler errors into responses so it sees the final status.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		id := req.Header.Get(headerRequestID)
		if !requestIDRE.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(keyRequestID, id)
		c.Response().Header().Set(headerRequestID, id)
		s.m.inflight.Inc()
		if err := next(c); err != nil {
			c.Error(err)
		}
		s.m.inflight.Dec()
		elapsed := time.Since(start)
		status := c.Response().Status
		routeLabel := c.Path()
		if s.routeOf(c) == nil && routeLabel != "/metrics" {
			routeLabel = "unmatched"
		}
		s.m.observe(req.Method, routeLabel, status, elapsed.Seconds())
		s.log.LogAttrs(req.Context(), levelFor(status), "request",
			slog.String("method", req.Method), slog.String("route", routeLabel), slog.String("path", req.URL.Path),
			slog.Int("status", status), slog.Duration("duration", elapsed), slog.Int64("bytes", c.Response().Size),
			slog.String("request_id", id), slog.String("actor", principal(c).Actor()), slog.String("remote", c.RealIP()))
		return nil
	}
}

// recoverPanics turns a handler panic into a 500 and a log line with the stack.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// limitBody refuses bodies over MaxBodyBytes, declared or streamed.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if rt := s.routeOf(c); rt != nil && rt.unlimited {
			return next(c)
		}
		if req.ContentLength > s.MaxBodyBytes {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, s.MaxBodyBytes)
		}
		return next(c)
	}
}

func isMutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// recordAudit writes one audit event per mutating request to a known route,
// whatever its outcome.
func (s *Server) recordAudit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rt := s.routeOf(c)
		if rt == nil || !isMutating(c.Request().Method) || rt.readOnly {
			return next(c)
		}
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		target, _ := c.Get(keyAuditTarget).(string)
		if target == "" {
			target = strings.TrimPrefix(c.Request().URL.Path, "/api/v1/")
		}
		ev := audit.Event{Actor: principal(c).Actor(), Action: rt.action, Target: target,
			Outcome: audit.OutcomeOf(status), Status: status, RequestID: requestID(c),
			Method: c.Request().Method, Path: c.Request().URL.Path}
		if err != nil {
			_, body := toResponse(err, "", discard)
			ev.Reason = string(body.Error.Code)
		}
		// The request is answered; record even if the client went away.
		if aerr := s.Audit.Record(context.WithoutCancel(c.Request().Context()), ev); aerr != nil {
			s.m.auditErr.Inc()
			s.log.Error("audit event lost", "err", aerr, "request_id", ev.RequestID, "action", ev.Action, "target", ev.Target)
		}
		return nil
	}
}

// authenticate establishes the principal for every non-public operation.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rt := s.routeOf(c)
		if rt == nil || rt.public {
			return next(c)
		}
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		bearer, ok := strings.CutPrefix(h, "Bearer ")
		if h != "" && !ok {
			return fault.New(fault.ErrUnauthenticated, "the Authorization header must be `Bearer <token>`")
		}
		p, err := s.Auth.Authenticate(c.Request().Context(), strings.TrimSpace(bearer))
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(identity.WithPrincipal(c.Request().Context(), p)))
		return next(c)
	}
}

// idempotent replays the stored response of a POST retried with the same
// Idempotency-Key, and stores the response of the first.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		clientKey := req.Header.Get(headerIdempotency)
		if rt := s.routeOf(c); req.Method != http.MethodPost || clientKey == "" || rt == nil || rt.mount != nil {
			return next(c)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return bodyReadError(err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		ctx := req.Context()
		key := idempotency.Key(principal(c).Subject, req.Method, req.URL.Path, clientKey)
		replay, err := s.Idempotency.Begin(ctx, key, idempotency.HashBody(body))
		if err != nil {
			return err
		}
		if replay != nil {
			h := c.Response().Header()
			h.Set("Idempotent-Replayed", "true")
			setIf(h, echo.HeaderContentType, replay.ContentType)
			setIf(h, "ETag", replay.ETag)
			setIf(h, echo.HeaderLocation, replay.Location)
			c.Response().WriteHeader(replay.Status)
			_, err := c.Response().Write(replay.Body)
			return err
		}
		finished := false
		defer func() {
			if !finished {
				_ = s.Idempotency.Abandon(context.WithoutCancel(ctx), key)
			}
		}()
		rec := &captureWriter{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		if err := next(c); err != nil {
			c.Error(err)
		}
		h := c.Response().Header()
		resp := idempotency.Response{Status: c.Response().Status, ContentType: h.Get(echo.HeaderContentType),
			ETag: h.Get("ETag"), Location: h.Get(echo.HeaderLocation), Body: rec.buf.Bytes()}
		finished = true
		return s.Idempotency.Finish(context.WithoutCancel(ctx), key, resp)
	}
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

type captureWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	return &fault.Error{Kind: errMalformed, Message: "the request body could not be read: " + err.Error()}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
