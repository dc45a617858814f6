package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/team"
)

var _ jobs.Repository = (*Store)(nil)

// jobSpec is what was asked for; it never changes.
type jobSpec struct {
	Template          string                  `json:"template"`
	TemplateVersion   string                  `json:"templateVersion"`
	Priority          scheduler.PriorityClass `json:"priority"`
	Image             string                  `json:"image"`
	Command           []string                `json:"command"`
	Env               map[string]string       `json:"env,omitempty"`
	GPUs              int                     `json:"gpus"`
	CPUMillis         int64                   `json:"cpuMillis"`
	MemoryBytes       int64                   `json:"memoryBytes"`
	Replicas          int                     `json:"replicas"`
	Timeout           time.Duration           `json:"timeout"`
	Retries           int                     `json:"retries"`
	Preemptible       bool                    `json:"preemptible"`
	EstimatedDuration time.Duration           `json:"estimatedDuration,omitempty"`
	Outputs           []string                `json:"outputs,omitempty"`
	Ref               string                  `json:"ref,omitempty"`
}

// jobStatus is where the job stands.
type jobStatus struct {
	GPUType        string              `json:"gpuType,omitempty"`
	Reason         string              `json:"reason,omitempty"`
	Attempt        int                 `json:"attempt,omitempty"`
	Failures       int                 `json:"failures,omitempty"`
	Preemptions    int                 `json:"preemptions,omitempty"`
	Nodes          []string            `json:"nodes,omitempty"`
	NominatedNodes []string            `json:"nominatedNodes,omitempty"`
	StopReason     executor.StopReason `json:"stopReason,omitempty"`
	ExitCode       int                 `json:"exitCode,omitempty"`
	ExperimentID   string              `json:"experimentId,omitempty"`
	RunID          string              `json:"runId,omitempty"`
	ArtifactURI    string              `json:"artifactUri,omitempty"`
	StartedAt      time.Time           `json:"startedAt,omitzero"`
	StartErrors    int                 `json:"startErrors,omitempty"`
	NotBefore      time.Time           `json:"notBefore,omitzero"`
}

const jobColumns = `id, team, project, name, state, spec, status, gpu_seconds, created_by, submitted_at, finished_at, updated_at, version, cost, pool, gpu_type, month`

func jobJSON(j jobs.Job) (spec, status string, err error) {
	sp, err := json.Marshal(jobSpec{Template: j.Template, TemplateVersion: j.TemplateVersion, Priority: j.Priority, Image: j.Image,
		Command: j.Command, Env: j.Env, GPUs: j.GPUs, CPUMillis: j.CPUMillis, MemoryBytes: j.MemoryBytes, Replicas: j.Replicas,
		Timeout: j.Timeout, Retries: j.Retries, Preemptible: j.Preemptible, EstimatedDuration: j.EstimatedDuration, Outputs: j.Outputs, Ref: j.Ref})
	if err != nil {
		return "", "", fmt.Errorf("encode job spec: %w", err)
	}
	st, err := json.Marshal(jobStatus{GPUType: j.GPUType, Reason: j.Reason, Attempt: j.Attempt, Failures: j.Failures,
		Preemptions: j.Preemptions, Nodes: j.Nodes, NominatedNodes: j.NominatedNodes, StopReason: j.StopReason, ExitCode: j.ExitCode,
		ExperimentID: j.ExperimentID, RunID: j.RunID, ArtifactURI: j.ArtifactURI, StartedAt: j.StartedAt,
		StartErrors: j.StartErrors, NotBefore: j.NotBefore})
	if err != nil {
		return "", "", fmt.Errorf("encode job status: %w", err)
	}
	return string(sp), string(st), nil
}

func scanJob(sc interface{ Scan(...any) error }) (jobs.Job, error) {
	var j jobs.Job
	var state, spec, status string
	var submitted, finished, updated int64
	var gpuType, month string // gpu_type and month are for the cost roll-ups (costs.go)
	if err := sc.Scan(&j.ID, &j.Team, &j.Project, &j.Name, &state, &spec, &status, &j.GPUSeconds, &j.CreatedBy,
		&submitted, &finished, &updated, &j.Version, &j.Cost, &j.Pool, &gpuType, &month); err != nil {
		return j, err
	}
	var sp jobSpec
	var st jobStatus
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return j, fmt.Errorf("decode spec of job %s: %w", j.ID, err)
	}
	if err := json.Unmarshal([]byte(status), &st); err != nil {
		return j, fmt.Errorf("decode status of job %s: %w", j.ID, err)
	}
	j.State, j.SubmittedAt, j.UpdatedAt = jobs.State(state), fromMicros(submitted), fromMicros(updated)
	if finished != 0 {
		j.FinishedAt = fromMicros(finished)
	}
	j.Template, j.TemplateVersion, j.Priority, j.Image, j.Command, j.Env = sp.Template, sp.TemplateVersion, sp.Priority, sp.Image, sp.Command, sp.Env
	j.GPUs, j.CPUMillis, j.MemoryBytes, j.Replicas, j.Timeout = sp.GPUs, sp.CPUMillis, sp.MemoryBytes, sp.Replicas, sp.Timeout
	j.Retries, j.Preemptible, j.EstimatedDuration, j.Outputs, j.Ref = sp.Retries, sp.Preemptible, sp.EstimatedDuration, sp.Outputs, sp.Ref
	j.GPUType, j.Reason, j.Attempt, j.Failures, j.Preemptions = st.GPUType, st.Reason, st.Attempt, st.Failures, st.Preemptions
	j.Nodes, j.NominatedNodes, j.StopReason, j.ExitCode = st.Nodes, st.NominatedNodes, st.StopReason, st.ExitCode
	j.ExperimentID, j.RunID, j.ArtifactURI, j.StartedAt = st.ExperimentID, st.RunID, st.ArtifactURI, st.StartedAt
	j.StartErrors, j.NotBefore = st.StartErrors, st.NotBefore
	return j, nil
}

// chargedMonth is the month (YYYY-MM, UTC) an ended job is charged to;
// "" while it has not ended.
func chargedMonth(j jobs.Job) string {
	if !j.State.Final() || j.FinishedAt.IsZero() {
		return ""
	}
	return j.FinishedAt.UTC().Format("2006-01")
}

func finishedMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// CreateJob inserts a job.
func (s *Store) CreateJob(ctx context.Context, j jobs.Job) error {
	spec, status, err := jobJSON(j)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, nil, `INSERT INTO jobs (`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.Team, j.Project, j.Name, string(j.State), spec, status, j.GPUSeconds, j.CreatedBy,
		micros(j.SubmittedAt), finishedMicros(j.FinishedAt), micros(j.UpdatedAt), j.Version, j.Cost, j.Pool, j.GPUType, chargedMonth(j))
	if isUniqueViolation(err) {
		return fault.New(fault.ErrAlreadyExists, "job %s already exists", j.ID)
	}
	if err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	return nil
}

// GetJob returns one job.
func (s *Store) GetJob(ctx context.Context, id string) (jobs.Job, error) {
	j, err := scanJob(s.queryRow(ctx, nil, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Job{}, fault.NotFound("job", id)
	}
	if err != nil {
		return jobs.Job{}, fmt.Errorf("get job: %w", err)
	}
	return j, nil
}

// ListJobs returns up to limit jobs with ids after `after`, by id.
func (s *Store) ListJobs(ctx context.Context, f jobs.Filter, after string, limit int) ([]jobs.Job, error) {
	var where []string
	var args []any
	if f.Team != "" {
		where, args = append(where, "team = ?"), append(args, f.Team)
	}
	if f.Project != "" {
		where, args = append(where, "project = ?"), append(args, f.Project)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	where, args = append(where, "id > ?"), append(args, after)
	return s.listJobs(ctx, `SELECT `+jobColumns+` FROM jobs WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, append(args, limit)...)
}

// ListActiveJobs returns every job that has not ended, oldest first.
func (s *Store) ListActiveJobs(ctx context.Context) ([]jobs.Job, error) {
	return s.listJobs(ctx, `SELECT `+jobColumns+` FROM jobs WHERE state IN (?, ?, ?, ?) ORDER BY submitted_at, id`,
		string(jobs.StateQueued), string(jobs.StateStarting), string(jobs.StateRunning), string(jobs.StateStopping))
}

// ActiveJobVersions returns id → version of every job that has not ended,
// from the index jobs_active_versions alone.
func (s *Store) ActiveJobVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.query(ctx, nil, `SELECT id, version FROM jobs WHERE state IN (?, ?, ?, ?)`,
		string(jobs.StateQueued), string(jobs.StateStarting), string(jobs.StateRunning), string(jobs.StateStopping))
	if err != nil {
		return nil, fmt.Errorf("list active job versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("scan job version: %w", err)
		}
		out[id] = v
	}
	return out, rows.Err()
}

// getJobsBatch bounds the ids of one GetJobs query.
const getJobsBatch = 512

// GetJobs returns the jobs among ids that exist.
func (s *Store) GetJobs(ctx context.Context, ids []string) ([]jobs.Job, error) {
	out := make([]jobs.Job, 0, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), getJobsBatch)
		// The list is padded (repeating the last id) to a power of two, so
		// the statement cache holds at most ten of these statements.
		size := 1
		for size < n {
			size *= 2
		}
		args := make([]any, size)
		for i := range size {
			args[i] = ids[min(i, n-1)]
		}
		page, err := s.listJobs(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id IN (?`+strings.Repeat(", ?", size-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		ids = ids[n:]
	}
	return out, nil
}

func (s *Store) listJobs(ctx context.Context, q string, args ...any) ([]jobs.Job, error) {
	rows, err := s.query(ctx, nil, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	out := []jobs.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("scan job: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

const updateJobSQL = `UPDATE jobs SET state = ?, status = ?, gpu_seconds = ?, finished_at = ?, updated_at = ?, version = ?,
	cost = ?, pool = ?, gpu_type = ?, month = ? WHERE id = ? AND version = ?`

// updateJob runs updateJobSQL for j (in tx when not nil) and reports
// whether a row was updated.
func (s *Store) updateJob(ctx context.Context, tx *sql.Tx, j jobs.Job, ifVersion int64) (bool, error) {
	_, status, err := jobJSON(j)
	if err != nil {
		return false, err
	}
	res, err := s.exec(ctx, tx, updateJobSQL, string(j.State), status, j.GPUSeconds,
		finishedMicros(j.FinishedAt), micros(j.UpdatedAt), j.Version, j.Cost, j.Pool, j.GPUType, chargedMonth(j), j.ID, ifVersion)
	if err != nil {
		return false, fmt.Errorf("update job: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// UpdateJobs records the updates in one transaction; see jobs.Repository.
// On PostgreSQL a statement updates up to jobUpdateRows jobs (a scheduling
// cycle records thousands of admissions: one round trip each was most of
// the cycle); SQLite, in process, runs one statement per job.
func (s *Store) UpdateJobs(ctx context.Context, ups []jobs.Update) ([]bool, error) {
	recorded := make([]bool, len(ups))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.driver == Postgres {
			return s.updateJobsInBulk(ctx, tx, ups, recorded)
		}
		for i, u := range ups {
			ok, err := s.updateJob(ctx, tx, u.Job, u.IfVersion)
			if err != nil {
				return fmt.Errorf("job %s: %w", u.Job.ID, err)
			}
			recorded[i] = ok
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recorded, nil
}

// jobUpdateRows is how many jobs one bulk UPDATE records.
const jobUpdateRows = 100

// updateJobsInBulk runs updateJobSQL's update for many jobs with one
// UPDATE … FROM (VALUES …) per chunk, each job still only at its expected
// version, and marks in recorded the ones that were.
func (s *Store) updateJobsInBulk(ctx context.Context, tx *sql.Tx, ups []jobs.Update, recorded []bool) error {
	at := make(map[string]int, len(ups))
	var again []int // a job's later updates, one statement each, as UpdateJobs on SQLite
	for start := 0; start < len(ups); start += jobUpdateRows {
		part := ups[start:min(start+jobUpdateRows, len(ups))]
		args := make([]any, 0, 12*len(part))
		for i, u := range part {
			j := u.Job
			if _, dup := at[j.ID]; dup {
				again = append(again, start+i)
				continue
			}
			at[j.ID] = start + i
			_, status, err := jobJSON(j)
			if err != nil {
				return fmt.Errorf("job %s: %w", j.ID, err)
			}
			args = append(args, j.ID, u.IfVersion, string(j.State), status, j.GPUSeconds, finishedMicros(j.FinishedAt),
				micros(j.UpdatedAt), j.Version, j.Cost, j.Pool, j.GPUType, chargedMonth(j))
		}
		if len(args) == 0 {
			continue
		}
		rows, err := s.query(ctx, tx, bulkUpdateJobsSQL(len(args)/12), args...)
		if err != nil {
			return fmt.Errorf("update jobs: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("update jobs: %w", err)
			}
			recorded[at[id]] = true
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("update jobs: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("update jobs: %w", err)
		}
	}
	for _, i := range again {
		ok, err := s.updateJob(ctx, tx, ups[i].Job, ups[i].IfVersion)
		if err != nil {
			return fmt.Errorf("job %s: %w", ups[i].Job.ID, err)
		}
		recorded[i] = ok
	}
	return nil
}

// bulkUpdateJobsSQL is updateJobSQL for n jobs on PostgreSQL; the first
// row's casts type the VALUES list's columns.
func bulkUpdateJobsSQL(n int) string {
	const typed = "(?::text, ?::bigint, ?::text, ?::text, ?::double precision, ?::bigint, ?::bigint, ?::bigint, ?::double precision, ?::text, ?::text, ?::text)"
	values := typed
	if n > 1 {
		values += ", " + rowsOf(12, n-1)
	}
	return `UPDATE jobs SET state = v.state, status = v.status, gpu_seconds = v.gpu_seconds, finished_at = v.finished_at,
	updated_at = v.updated_at, version = v.version, cost = v.cost, pool = v.pool, gpu_type = v.gpu_type, month = v.month
	FROM (VALUES ` + values + `) AS v(id, if_version, state, status, gpu_seconds, finished_at, updated_at, version, cost, pool, gpu_type, month)
	WHERE jobs.id = v.id AND jobs.version = v.if_version RETURNING jobs.id`
}

// UpdateJob replaces a job's mutable fields if its version is ifVersion.
func (s *Store) UpdateJob(ctx context.Context, j jobs.Job, ifVersion int64) error {
	ok, err := s.updateJob(ctx, nil, j, ifVersion)
	if err != nil {
		return err
	}
	if !ok {
		if _, err := s.GetJob(ctx, j.ID); err != nil {
			return err
		}
		return fault.New(fault.ErrPreconditionFailed, "job %s changed since it was read", j.ID)
	}
	return nil
}

// Lease makes owner the holder of the named lease until `until` unless
// another owner's lease is valid at now; it reports whether owner holds it.
func (s *Store) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	res, err := s.exec(ctx, nil, `UPDATE leases SET owner = ?, until = ? WHERE name = ? AND (owner = ? OR until < ?)`,
		owner, micros(until), name, owner, micros(now))
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	_, err = s.exec(ctx, nil, `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)`, name, owner, micros(until))
	if isUniqueViolation(err) {
		return false, nil // held by another
	}
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return true, nil
}

// AllTeams returns every team (for the scheduler's quotas).
func (s *Store) AllTeams(ctx context.Context) ([]team.Team, error) {
	var out []team.Team
	after := ""
	for {
		page, err := s.ListTeams(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out, nil
		}
		after = page[len(page)-1].Name
	}
}
