package models

import (
	"context"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/tracking"
)

// ChangeKind is what changed.
type ChangeKind string

// Kinds of change.
const (
	ChangeModel        ChangeKind = "model"
	ChangeModelVersion ChangeKind = "model-version"
	ChangeDataset      ChangeKind = "dataset"
)

// ChangeOp is how it changed: it is there now (upsert) or gone (delete).
type ChangeOp string

// Change operations.
const (
	OpUpsert ChangeOp = "upsert"
	OpDelete ChangeOp = "delete"
)

// Change is one entry of the change feed.
type Change struct {
	Seq     int64
	Kind    ChangeKind
	Name    string
	Version int64 // model-version and dataset changes
	Op      ChangeOp
	Time    int64 // unix milliseconds
}

// ChangeLog is where changes are recorded, in order.
type ChangeLog interface {
	// ChangesAfter returns up to limit changes with a sequence number
	// above seq, in order.
	ChangesAfter(ctx context.Context, seq int64, limit int) ([]Change, error)
	// ChangeSignal returns a channel closed when this process next
	// commits a change. Other replicas' changes are seen by polling.
	ChangeSignal() <-chan struct{}
}

// Limits of a change feed request.
const (
	MaxWait           = 30 * time.Second
	ChangesDefault    = 500
	ChangesMax        = 1000
	defaultChangePoll = time.Second
)

// Feed serves the change feed, with long polls.
type Feed struct {
	log  ChangeLog
	poll time.Duration
}

// NewFeed returns the feed over log. poll is how often a waiting request
// re-reads the log for other replicas' changes (0: every second).
func NewFeed(log ChangeLog, poll time.Duration) *Feed {
	if poll <= 0 {
		poll = defaultChangePoll
	}
	return &Feed{log: log, poll: poll}
}

// EncodeCursor returns the opaque cursor after seq.
func EncodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10)))
}

// DecodeCursor returns the sequence number of a cursor ("" = 0).
func DecodeCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	seq, perr := strconv.ParseInt(string(b), 10, 64)
	if err != nil || perr != nil || seq < 0 {
		return 0, fault.Invalid("after is not a cursor this server issued",
			fault.Field("after", "pass the `next` of the previous answer unchanged, or nothing to start from the beginning"))
	}
	return seq, nil
}

// List returns the changes after the cursor and the cursor to continue
// from. With wait > 0 and nothing to return yet, it waits up to wait (at
// most MaxWait) for a change, answering as soon as one is committed.
func (f *Feed) List(ctx context.Context, p identity.Principal, cursor string, wait time.Duration, limit int) ([]Change, string, error) {
	if err := tracking.CanRead(p); err != nil {
		return nil, "", err
	}
	seq, err := DecodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if wait < 0 || wait > MaxWait {
		return nil, "", fault.Invalid("wait is out of range", fault.Field("wait", "must be a duration from 0s to %s, such as 10s", MaxWait))
	}
	if limit <= 0 {
		limit = ChangesDefault
	}
	cs, err := f.wait(ctx, seq, wait, min(limit, ChangesMax))
	if err != nil {
		return nil, "", err
	}
	if len(cs) > 0 {
		seq = cs[len(cs)-1].Seq
	}
	return cs, EncodeCursor(seq), nil
}

// follow waits up to wait for changes after seq (for WarmFacts).
func (f *Feed) follow(ctx context.Context, seq int64, wait time.Duration) ([]Change, error) {
	return f.wait(ctx, seq, wait, ChangesMax)
}

// wait returns the changes after seq, waiting up to wait for one when
// there are none yet.
func (f *Feed) wait(ctx context.Context, seq int64, wait time.Duration, limit int) ([]Change, error) {
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	var tick *time.Ticker
	for {
		// Take the signal before reading, so a change committed between
		// the read and the wait is not missed.
		signal := f.log.ChangeSignal()
		cs, err := f.log.ChangesAfter(ctx, seq, limit)
		if err != nil || len(cs) > 0 || deadline == nil {
			return cs, err
		}
		if tick == nil {
			tick = time.NewTicker(f.poll)
			defer tick.Stop()
		}
		select {
		case <-signal:
		case <-tick.C:
		case <-deadline:
			return []Change{}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
