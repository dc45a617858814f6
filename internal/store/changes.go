package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/mlportal/mlportal/internal/models"
)

var _ models.ChangeLog = (*Store)(nil)

// changeSignal is a broadcast: wait returns a channel that fire closes.
type changeSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (c *changeSignal) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

func (c *changeSignal) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// ChangeSignal returns a channel closed when this store next commits a
// change of the feed.
func (s *Store) ChangeSignal() <-chan struct{} { return s.changes.wait() }

// inChangeTx is inTx for writes that record changes: readers of the feed
// are woken once the transaction has committed.
func (s *Store) inChangeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.inTx(ctx, fn); err != nil {
		return err
	}
	s.changes.fire()
	return nil
}

// recordChange appends a change to the feed in tx. The sequence row's lock
// is held until tx ends, so changes commit in sequence order.
func (s *Store) recordChange(ctx context.Context, tx *sql.Tx, kind models.ChangeKind, name string, version int64, op models.ChangeOp, at int64) error {
	seq, err := s.nextSequence(ctx, tx, "change")
	if err != nil {
		return err
	}
	if at == 0 {
		at = time.Now().UnixMilli() // a delete the caller did not time: when the store saw it
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO changes (seq, kind, name, version, op, time) VALUES (?, ?, ?, ?, ?, ?)`,
		seq, string(kind), name, version, string(op), at); err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	return nil
}

// ChangesAfter returns up to limit changes after seq, in order.
func (s *Store) ChangesAfter(ctx context.Context, seq int64, limit int) ([]models.Change, error) {
	rows, err := s.query(ctx, nil, `SELECT seq, kind, name, version, op, time FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	defer rows.Close()
	out := []models.Change{}
	for rows.Next() {
		var c models.Change
		var kind, op string
		if err := rows.Scan(&c.Seq, &kind, &c.Name, &c.Version, &op, &c.Time); err != nil {
			return nil, err
		}
		c.Kind, c.Op = models.ChangeKind(kind), models.ChangeOp(op)
		out = append(out, c)
	}
	return out, rows.Err()
}
