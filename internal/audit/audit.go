// Package audit records who did what to which resource, with what outcome,
// and lets platform admins read the trail back with filters.
//
// The HTTP transport records one event for every mutating request, whatever
// its outcome; this package gives events ids and times and authorizes reads.
// It does not decide what counts as mutating, nor ship events elsewhere.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/pagination"
)

// Outcome classifies how a request ended.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success" // 2xx/3xx
	OutcomeDenied  Outcome = "denied"  // 401, 403
	OutcomeInvalid Outcome = "invalid" // other 4xx
	OutcomeFailed  Outcome = "failed"  // 5xx
)

// OutcomeOf classifies an HTTP status.
func OutcomeOf(status int) Outcome {
	switch {
	case status < 400:
		return OutcomeSuccess
	case status == 401 || status == 403:
		return OutcomeDenied
	case status < 500:
		return OutcomeInvalid
	default:
		return OutcomeFailed
	}
}

// Event is one audit record.
type Event struct {
	ID        string
	Time      time.Time
	Actor     string
	Action    string
	Target    string
	Outcome   Outcome
	Status    int
	RequestID string
	Method    string
	Path      string
	Reason    string
}

// Filter narrows a listing. Empty fields match everything; Target ending in
// `*` matches by prefix.
type Filter struct {
	Actor, Action, Target, RequestID string
	Outcome                          Outcome
	Since, Until                     time.Time
}

// Repository persists events. ListEvents returns newest first, ids below
// `before` when it is set.
type Repository interface {
	AppendEvent(ctx context.Context, e Event) error
	ListEvents(ctx context.Context, f Filter, before string, limit int) ([]Event, error)
}

// Service records and reads the trail.
type Service struct {
	repo  Repository
	clock clock.Clock

	mu   sync.Mutex
	last int64 // nanoseconds of the last id, so ids from one process never tie
}

// NewService returns a Service.
func NewService(repo Repository, clk clock.Clock) *Service {
	return &Service{repo: repo, clock: clk}
}

// Record stamps and stores an event.
func (s *Service) Record(ctx context.Context, e Event) error {
	now := s.clock.Now().UTC()
	s.mu.Lock()
	ns := max(now.UnixNano(), s.last+1)
	s.last = ns
	s.mu.Unlock()
	e.Time = now
	e.ID = NewID(time.Unix(0, ns))
	if err := s.repo.AppendEvent(ctx, e); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// List returns a page of events to platform admins.
func (s *Service) List(ctx context.Context, p identity.Principal, f Filter, page pagination.Page) ([]Event, string, error) {
	if !p.CanGlobally(identity.VerbAdmin) {
		return nil, "", fault.Denied("only platform admins can read the audit trail")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return nil, "", fault.Invalid("the time range is empty", fault.Field("until", "must not be before since"))
	}
	if strings.Count(f.Target, "*") > 1 || (strings.Contains(f.Target, "*") && !strings.HasSuffix(f.Target, "*")) {
		return nil, "", fault.Invalid("bad target filter", fault.Field("target", "only a single trailing '*' is allowed, e.g. teams/*"))
	}
	es, err := s.repo.ListEvents(ctx, f, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	n, next := pagination.Next(len(es), page.Limit, func(i int) string { return es[i].ID })
	return es[:n], next, nil
}

// NewID returns an id that sorts by time: 16 hex digits of unix nanoseconds
// and 8 of randomness, so ids from several replicas interleave in time order.
func NewID(t time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%016x%08x", uint64(t.UnixNano()), binary.BigEndian.Uint32(r[:]))
}
