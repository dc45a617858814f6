// Package idempotency makes POST requests safe to retry. A client sends an
// `Idempotency-Key`; the first request with that key runs and its response is
// kept; a retry with the same body gets that response again, a reuse of the key
// with another body is refused, and a retry while the first is still running
// is told to wait.
//
// It decides and stores; it does not capture HTTP responses (the transport
// does) and keeps records for Retention only.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
)

// Retention is how long a key is remembered.
const Retention = 24 * time.Hour

// Response is a stored response.
type Response struct {
	Status      int
	ContentType string
	ETag        string
	Location    string
	Body        []byte
}

// Record is a key's state: pending while the first request runs, then done.
type Record struct {
	RequestHash string
	Done        bool
	Response    Response
	CreatedAt   time.Time
}

// Repository stores records. Reserve inserts a pending record unless one
// exists that was created at or after notBefore, which it returns instead
// (older records count as absent and are replaced).
type Repository interface {
	ReserveIdempotencyKey(ctx context.Context, key, requestHash string, now, notBefore time.Time) (existing *Record, err error)
	CompleteIdempotencyKey(ctx context.Context, key string, resp Response) error
	ReleaseIdempotencyKey(ctx context.Context, key string) error
}

// Service applies the rules.
type Service struct {
	repo  Repository
	clock clock.Clock
}

// NewService returns a Service.
func NewService(repo Repository, clk clock.Clock) *Service { return &Service{repo: repo, clock: clk} }

// Key scopes a client's key to who sent it and where, so two callers'
// keys never collide.
func Key(subject, method, path, clientKey string) string {
	h := sha256.Sum256([]byte(subject + "\x00" + method + "\x00" + path + "\x00" + clientKey))
	return hex.EncodeToString(h[:])
}

// HashBody fingerprints a request body.
func HashBody(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}

// Begin reserves key for a request. It returns the stored response to replay
// when the same request already ran, or nil when the caller should run it
// and then call Finish or Abandon.
func (s *Service) Begin(ctx context.Context, key, requestHash string) (*Response, error) {
	now := s.clock.Now().UTC()
	existing, err := s.repo.ReserveIdempotencyKey(ctx, key, requestHash, now, now.Add(-Retention))
	if err != nil || existing == nil {
		return nil, err
	}
	switch {
	case existing.RequestHash != requestHash:
		return nil, &fault.Error{Kind: fault.ErrIdempotencyKeyReused,
			Message: "this Idempotency-Key was already used with a different request body; use a new key for a new request",
			Fields:  []fault.FieldError{fault.Field("Idempotency-Key", "reused with a different body")}}
	case !existing.Done:
		return nil, fault.New(fault.ErrConflict, "a request with this Idempotency-Key is still being processed; retry in a moment")
	}
	r := existing.Response
	return &r, nil
}

// Finish stores the response of a request that ran. Server errors are not
// kept, so a retry runs the request again.
func (s *Service) Finish(ctx context.Context, key string, resp Response) error {
	if resp.Status >= 500 {
		return s.repo.ReleaseIdempotencyKey(ctx, key)
	}
	return s.repo.CompleteIdempotencyKey(ctx, key, resp)
}

// Abandon forgets a reservation whose request did not complete.
func (s *Service) Abandon(ctx context.Context, key string) error {
	return s.repo.ReleaseIdempotencyKey(ctx, key)
}
