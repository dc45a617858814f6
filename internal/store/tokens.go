package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/token"
)

var (
	_ token.Repository      = (*Store)(nil)
	_ token.KeyStore        = (*Store)(nil)
	_ token.BatchRepository = (*Store)(nil)
)

// CreateToken records an issued token.
func (s *Store) CreateToken(ctx context.Context, r token.Record) error {
	return s.insertToken(ctx, nil, r)
}

// CreateTokens records issued tokens in one transaction with one bulk
// INSERT: the tokens of the jobs a scheduling cycle admitted, one
// statement and one commit instead of one each per job.
func (s *Store) CreateTokens(ctx context.Context, rs []token.Record) error {
	args := make([]any, 0, 7*len(rs))
	for _, r := range rs {
		args = append(args, tokenRow(r)...)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertTokens.run(ctx, s, tx, args); err != nil {
			return fmt.Errorf("insert tokens: %w", err)
		}
		return nil
	})
}

func (s *Store) insertToken(ctx context.Context, tx *sql.Tx, r token.Record) error {
	if _, err := s.exec(ctx, tx, insertTokens.valuesSQL(1), tokenRow(r)...); err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

var insertTokens = insertMany{table: "api_tokens", cols: []string{"id", "name", "subject", "team", "verbs", "created_at", "expires_at"},
	types: []string{"text", "text", "text", "text", "text", "bigint", "bigint"}}

// tokenRow is r's values in insertTokens' order.
func tokenRow(r token.Record) []any {
	verbs := make([]string, len(r.Verbs))
	for i, v := range r.Verbs {
		verbs[i] = string(v)
	}
	return []any{r.ID, r.Name, r.Subject, r.Team, strings.Join(verbs, ","), micros(r.CreatedAt), micros(r.ExpiresAt)}
}

const tokenColumns = `id, name, subject, team, verbs, created_at, expires_at, revoked_at`

func scanToken(sc interface{ Scan(...any) error }) (token.Record, error) {
	var r token.Record
	var verbs string
	var created, expires int64
	var revoked sql.NullInt64
	if err := sc.Scan(&r.ID, &r.Name, &r.Subject, &r.Team, &verbs, &created, &expires, &revoked); err != nil {
		return r, err
	}
	for _, v := range strings.Split(verbs, ",") {
		if v != "" {
			r.Verbs = append(r.Verbs, identity.Verb(v))
		}
	}
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	if revoked.Valid {
		r.RevokedAt = fromMicros(revoked.Int64)
	}
	return r, nil
}

// GetToken returns a token record.
func (s *Store) GetToken(ctx context.Context, id string) (token.Record, error) {
	r, err := scanToken(s.queryRow(ctx, nil, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fault.NotFound("token", id)
	}
	if err != nil {
		return r, fmt.Errorf("get token: %w", err)
	}
	return r, nil
}

// ListTokens lists tokens by id, optionally of one subject.
func (s *Store) ListTokens(ctx context.Context, subject string, includeRevoked bool, after string, limit int) ([]token.Record, error) {
	q, args := `SELECT `+tokenColumns+` FROM api_tokens WHERE id > ?`, []any{after}
	if subject != "" {
		q, args = q+` AND subject = ?`, append(args, subject)
	}
	if !includeRevoked {
		q += ` AND revoked_at IS NULL`
	}
	rows, err := s.query(ctx, nil, q+` ORDER BY id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []token.Record{}
	for rows.Next() {
		r, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("scan token: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RevokeToken marks a token revoked.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, nil, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetToken(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// SigningKey returns the token signing key, creating it once. Two replicas
// starting together both insert; the loser's row is ignored and both read the
// winner's.
func (s *Store) SigningKey(ctx context.Context, gen func() (string, []byte, error)) (string, []byte, error) {
	const purpose = "api-tokens"
	load := func() (string, []byte, error) {
		var id, pemText string
		err := s.queryRow(ctx, nil, `SELECT id, private_key FROM signing_keys WHERE purpose = ?`, purpose).Scan(&id, &pemText)
		if err != nil {
			return "", nil, err
		}
		der, err := decodeKey(pemText)
		return id, der, err
	}
	id, der, err := load()
	if err == nil {
		return id, der, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("load signing key: %w", err)
	}
	id, der, err = gen()
	if err != nil {
		return "", nil, fmt.Errorf("generate signing key: %w", err)
	}
	_, err = s.exec(ctx, nil, `INSERT INTO signing_keys (purpose, id, private_key, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (purpose) DO NOTHING`,
		purpose, id, encodeKey(der), micros(time.Now()))
	if err != nil {
		return "", nil, fmt.Errorf("store signing key: %w", err)
	}
	return load()
}
