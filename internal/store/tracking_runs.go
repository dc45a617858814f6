package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mlportal/mlportal/internal/tracking"
)

var _ tracking.RunsCreator = (*Store)(nil)

// CreateRuns stores runs in one transaction with multi-row INSERTs: the
// runs a scheduling cycle creates for the jobs it admitted, a few
// statements and one commit instead of eight statements and a commit per
// job. The result is CreateRun's for each run: a run-name tag names the run,
// and a tag given twice keeps its last value.
func (s *Store) CreateRuns(ctx context.Context, rs []tracking.Run) error {
	runArgs := make([]any, 0, 8*len(rs))
	var tagArgs []any
	for _, r := range rs {
		ri := r.Info
		exp := mustInt(ri.ExperimentID)
		name := ri.Name
		last := map[string]string{}
		var keys []string
		for _, t := range r.Tags {
			if _, seen := last[t.Key]; !seen {
				keys = append(keys, t.Key)
			}
			last[t.Key] = t.Value
			if t.Key == tracking.TagRunName {
				name = t.Value
			}
		}
		runArgs = append(runArgs, ri.ID, exp, name, ri.UserID, string(ri.Status), ri.StartTime, ri.ArtifactURI, ri.LifecycleStage)
		for _, k := range keys {
			tagArgs = append(tagArgs, ri.ID, exp, k, last[k])
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertRows(ctx, tx, insertRunsSQL, 8, runArgs); err != nil {
			return fmt.Errorf("insert runs: %w", err)
		}
		if err := s.insertRows(ctx, tx, insertRunTagsSQL, 4, tagArgs); err != nil {
			return fmt.Errorf("insert run tags: %w", err)
		}
		return nil
	})
}

func insertRunsSQL(rows int) string {
	return `INSERT INTO runs (id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage) VALUES ` + rowsOf(8, rows)
}

func insertRunTagsSQL(rows int) string {
	return `INSERT INTO run_tags (run_id, experiment_id, key, value) VALUES ` + rowsOf(4, rows)
}

// insertRows runs the multi-row INSERT query(n) over args, cols values a
// row, in chunks of chunkSizes rows.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, query func(rows int) string, cols int, args []any) error {
	for _, n := range chunks(len(args) / cols) {
		if _, err := s.exec(ctx, tx, query(n), args[:n*cols]...); err != nil {
			return err
		}
		args = args[n*cols:]
	}
	return nil
}
