package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/quota"
)

var _ quota.Repository = (*Store)(nil)

// quotaSpec is what was asked; it never changes.
type quotaSpec struct {
	GPUType        string        `json:"gpuType"`
	GPUs           int           `json:"gpus"`
	BorrowingLimit *int          `json:"borrowingLimit,omitempty"`
	Project        string        `json:"project,omitempty"`
	ProjectGPUs    *int          `json:"projectGpus,omitempty"`
	Justification  string        `json:"justification"`
	Duration       time.Duration `json:"duration,omitempty"`
}

// quotaDecision is the decision and how applying it went.
type quotaDecision struct {
	DecidedBy  string        `json:"decidedBy,omitempty"`
	DecidedAt  time.Time     `json:"decidedAt,omitzero"`
	Comment    string        `json:"comment,omitempty"`
	Change     *quota.Change `json:"change,omitempty"`
	AppliedAt  time.Time     `json:"appliedAt,omitzero"`
	ApplyError string        `json:"applyError,omitempty"`
	Attempts   int           `json:"attempts,omitempty"`
}

const quotaColumns = `id, team, status, spec, decision, applied, expires_at, requested_by, requested_at, updated_at, version`

func quotaJSON(r quota.Request) (spec, decision string, err error) {
	sp, err := json.Marshal(quotaSpec{GPUType: r.GPUType, GPUs: r.GPUs, BorrowingLimit: r.BorrowingLimit, Project: r.Project,
		ProjectGPUs: r.ProjectGPUs, Justification: r.Justification, Duration: r.Duration})
	if err != nil {
		return "", "", fmt.Errorf("encode quota request: %w", err)
	}
	d, err := json.Marshal(quotaDecision{DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Comment: r.Comment, Change: r.Change,
		AppliedAt: r.AppliedAt, ApplyError: r.ApplyError, Attempts: r.Attempts})
	if err != nil {
		return "", "", fmt.Errorf("encode quota decision: %w", err)
	}
	return string(sp), string(d), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scanQuotaRequest(sc interface{ Scan(...any) error }) (quota.Request, error) {
	var r quota.Request
	var status, spec, decision string
	var applied int
	var expires, requested, updated int64
	if err := sc.Scan(&r.ID, &r.Team, &status, &spec, &decision, &applied, &expires, &r.RequestedBy, &requested, &updated, &r.Version); err != nil {
		return r, err
	}
	var sp quotaSpec
	var d quotaDecision
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return r, fmt.Errorf("decode quota request %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(decision), &d); err != nil {
		return r, fmt.Errorf("decode quota decision %s: %w", r.ID, err)
	}
	r.Status, r.Applied, r.RequestedAt, r.UpdatedAt = quota.Status(status), applied != 0, fromMicros(requested), fromMicros(updated)
	if expires != 0 {
		r.ExpiresAt = fromMicros(expires)
	}
	r.Spec = quota.Spec{GPUType: sp.GPUType, GPUs: sp.GPUs, BorrowingLimit: sp.BorrowingLimit, Project: sp.Project,
		ProjectGPUs: sp.ProjectGPUs, Justification: sp.Justification, Duration: sp.Duration}
	r.DecidedBy, r.DecidedAt, r.Comment, r.Change = d.DecidedBy, d.DecidedAt, d.Comment, d.Change
	r.AppliedAt, r.ApplyError, r.Attempts = d.AppliedAt, d.ApplyError, d.Attempts
	return r, nil
}

// CreateQuotaRequest inserts a request.
func (s *Store) CreateQuotaRequest(ctx context.Context, r quota.Request) error {
	spec, decision, err := quotaJSON(r)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, nil, `INSERT INTO quota_requests (`+quotaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Team, string(r.Status), spec, decision, boolInt(r.Applied), finishedMicros(r.ExpiresAt), r.RequestedBy,
		micros(r.RequestedAt), micros(r.UpdatedAt), r.Version)
	if isUniqueViolation(err) {
		return fault.New(fault.ErrAlreadyExists, "quota request %s already exists", r.ID)
	}
	if err != nil {
		return fmt.Errorf("insert quota request: %w", err)
	}
	return nil
}

// GetQuotaRequest returns one request.
func (s *Store) GetQuotaRequest(ctx context.Context, id string) (quota.Request, error) {
	r, err := scanQuotaRequest(s.queryRow(ctx, nil, `SELECT `+quotaColumns+` FROM quota_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return quota.Request{}, fault.NotFound("quota request", id)
	}
	if err != nil {
		return quota.Request{}, fmt.Errorf("get quota request: %w", err)
	}
	return r, nil
}

// ListQuotaRequests returns up to limit of a team's requests after `after`,
// by id, of one status when set.
func (s *Store) ListQuotaRequests(ctx context.Context, team string, status quota.Status, after string, limit int) ([]quota.Request, error) {
	if status != "" {
		return s.listQuotaRequests(ctx, `SELECT `+quotaColumns+` FROM quota_requests WHERE team = ? AND status = ? AND id > ? ORDER BY id LIMIT ?`,
			team, string(status), after, limit)
	}
	return s.listQuotaRequests(ctx, `SELECT `+quotaColumns+` FROM quota_requests WHERE team = ? AND id > ? ORDER BY id LIMIT ?`, team, after, limit)
}

// ListQuotaRequestsToReconcile returns the approved requests whose grant
// ended by now and the approved or expired ones not applied, by id.
func (s *Store) ListQuotaRequestsToReconcile(ctx context.Context, now time.Time) ([]quota.Request, error) {
	return s.listQuotaRequests(ctx, `SELECT `+quotaColumns+` FROM quota_requests
		WHERE (status = ? AND expires_at > 0 AND expires_at <= ?) OR (status IN (?, ?) AND applied = 0) ORDER BY id`,
		string(quota.StatusApproved), micros(now), string(quota.StatusApproved), string(quota.StatusExpired))
}

func (s *Store) listQuotaRequests(ctx context.Context, q string, args ...any) ([]quota.Request, error) {
	rows, err := s.query(ctx, nil, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list quota requests: %w", err)
	}
	defer rows.Close()
	out := []quota.Request{}
	for rows.Next() {
		r, err := scanQuotaRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("scan quota request: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list quota requests: %w", err)
	}
	return out, nil
}

// UpdateQuotaRequest replaces a request's decision if its version is
// ifVersion.
func (s *Store) UpdateQuotaRequest(ctx context.Context, r quota.Request, ifVersion int64) error {
	_, decision, err := quotaJSON(r)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, nil, `UPDATE quota_requests SET status = ?, decision = ?, applied = ?, expires_at = ?, updated_at = ?, version = ?
		WHERE id = ? AND version = ?`, string(r.Status), decision, boolInt(r.Applied), finishedMicros(r.ExpiresAt), micros(r.UpdatedAt),
		r.Version, r.ID, ifVersion)
	if err != nil {
		return fmt.Errorf("update quota request: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetQuotaRequest(ctx, r.ID); err != nil {
			return err
		}
		return fault.New(fault.ErrPreconditionFailed, "quota request %s changed since it was read", r.ID)
	}
	return nil
}
