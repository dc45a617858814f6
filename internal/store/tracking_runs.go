package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mlportal/mlportal/internal/tracking"
)

var _ tracking.RunsCreator = (*Store)(nil)

// CreateRuns stores runs in one transaction: the runs a scheduling cycle
// creates for the jobs it admitted, one commit instead of one per job.
func (s *Store) CreateRuns(ctx context.Context, rs []tracking.Run) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			ri := r.Info
			if _, err := s.exec(ctx, tx, `INSERT INTO runs (id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage)
				VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`, ri.ID, mustInt(ri.ExperimentID), ri.Name, ri.UserID, string(ri.Status), ri.StartTime,
				ri.ArtifactURI, ri.LifecycleStage); err != nil {
				return fmt.Errorf("insert run: %w", err)
			}
			if err := s.upsertRunTags(ctx, tx, ri.ID, mustInt(ri.ExperimentID), r.Tags); err != nil {
				return err
			}
		}
		return nil
	})
}
