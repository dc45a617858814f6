package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mlportal/mlportal/internal/tracking"
)

var _ tracking.RunsCreator = (*Store)(nil)

// CreateRuns stores runs in one transaction with two bulk INSERTs: the
// runs a scheduling cycle creates for the jobs it admitted, two statements
// and one commit instead of eight statements and a commit per job. The result is CreateRun's for each run: a run-name tag names the run,
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
		if err := insertRuns.run(ctx, s, tx, runArgs); err != nil {
			return fmt.Errorf("insert runs: %w", err)
		}
		if err := insertRunTags.run(ctx, s, tx, tagArgs); err != nil {
			return fmt.Errorf("insert run tags: %w", err)
		}
		return nil
	})
}

var (
	insertRuns = insertMany{table: "runs",
		cols:  []string{"id", "experiment_id", "name", "user_id", "status", "start_time", "artifact_uri", "lifecycle_stage"},
		types: []string{"text", "bigint", "text", "text", "text", "bigint", "text", "text"}}
	insertRunTags = insertMany{table: "run_tags", cols: []string{"run_id", "experiment_id", "key", "value"},
		types: []string{"text", "bigint", "text", "text"}}
)
