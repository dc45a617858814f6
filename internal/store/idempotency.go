package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mlportal/mlportal/internal/idempotency"
)

var _ idempotency.Repository = (*Store)(nil)

// ReserveIdempotencyKey inserts a pending record, or returns the live one.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, key, requestHash string, now, notBefore time.Time) (*idempotency.Record, error) {
	var existing *idempotency.Record
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var r idempotency.Record
		var done int
		var created int64
		var body string
		err := s.queryRow(ctx, tx, `SELECT request_hash, done, status, content_type, etag, location, body, created_at FROM idempotency_keys WHERE key = ?`, key).
			Scan(&r.RequestHash, &done, &r.Response.Status, &r.Response.ContentType, &r.Response.ETag, &r.Response.Location, &body, &created)
		switch {
		case err == nil && created >= micros(notBefore):
			r.Done, r.Response.Body, r.CreatedAt = done == 1, []byte(body), fromMicros(created)
			existing = &r
			return nil
		case err == nil:
			if _, err := s.exec(ctx, tx, `DELETE FROM idempotency_keys WHERE key = ?`, key); err != nil {
				return fmt.Errorf("expire idempotency key: %w", err)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read idempotency key: %w", err)
		}
		_, err = s.exec(ctx, tx, `INSERT INTO idempotency_keys (key, request_hash, created_at) VALUES (?, ?, ?)`, key, requestHash, micros(now))
		if err != nil {
			return fmt.Errorf("reserve idempotency key: %w", err)
		}
		return nil
	})
	if isUniqueViolation(err) {
		// Another request reserved the key between our read and insert; its
		// record is committed now, so reading again returns it.
		return s.ReserveIdempotencyKey(ctx, key, requestHash, now, notBefore)
	}
	return existing, err
}

// CompleteIdempotencyKey stores the response of the request holding key.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, key string, r idempotency.Response) error {
	_, err := s.exec(ctx, nil, `UPDATE idempotency_keys SET done = 1, status = ?, content_type = ?, etag = ?, location = ?, body = ? WHERE key = ?`,
		r.Status, r.ContentType, r.ETag, r.Location, string(r.Body), key)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a key.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, nil, `DELETE FROM idempotency_keys WHERE key = ?`, key); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotencyKeys deletes records created before t.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, nil, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
