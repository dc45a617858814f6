package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mlportal/mlportal/internal/audit"
)

var _ audit.Repository = (*Store)(nil)

// AppendEvent stores an audit event.
func (s *Store) AppendEvent(ctx context.Context, e audit.Event) error {
	_, err := s.exec(ctx, nil, `INSERT INTO audit_events (id, time, actor, action, target, outcome, status, request_id, method, path, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, micros(e.Time), e.Actor, e.Action, e.Target, string(e.Outcome), e.Status, e.RequestID, e.Method, e.Path, e.Reason)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return nil
}

// ListEvents returns events matching f, newest first, with ids below before.
func (s *Store) ListEvents(ctx context.Context, f audit.Filter, before string, limit int) ([]audit.Event, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if before != "" {
		add("id < ?", before)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		if p, ok := strings.CutSuffix(f.Target, "*"); ok {
			add(`target LIKE ? ESCAPE '\'`, likeEscape(p)+"%")
			// SQLite's LIKE ignores ASCII case; this makes the prefix exact on both.
			where = append(where, "substr(target, 1, ?) = ?")
			args = append(args, utf8.RuneCountInString(p), p)
		} else {
			add("target = ?", f.Target)
		}
	}
	if f.Outcome != "" {
		add("outcome = ?", string(f.Outcome))
	}
	if f.RequestID != "" {
		add("request_id = ?", f.RequestID)
	}
	if !f.Since.IsZero() {
		add("time >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", micros(f.Until))
	}
	q := `SELECT id, time, actor, action, target, outcome, status, request_id, method, path, reason FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.query(ctx, nil, q+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	out := []audit.Event{}
	for rows.Next() {
		var e audit.Event
		var t int64
		var outcome string
		if err := rows.Scan(&e.ID, &t, &e.Actor, &e.Action, &e.Target, &outcome, &e.Status, &e.RequestID, &e.Method, &e.Path, &e.Reason); err != nil {
			return nil, fmt.Errorf("scan audit event: %w", err)
		}
		e.Time, e.Outcome = fromMicros(t), audit.Outcome(outcome)
		out = append(out, e)
	}
	return out, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
