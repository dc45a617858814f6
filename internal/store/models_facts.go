package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/mlportal/mlportal/internal/models"
	"github.com/mlportal/mlportal/internal/tracking"
)

var (
	_ models.FactStore   = (*Store)(nil)
	_ models.Runs        = (*Store)(nil)
	_ models.CodeSources = (*Store)(nil)
)

// ModelFacts returns the cached facts of the versions that have some.
func (s *Store) ModelFacts(ctx context.Context, keys []models.VersionKey) (map[models.VersionKey]models.Facts, error) {
	out := make(map[models.VersionKey]models.Facts, len(keys))
	err := s.eachVersionRow(ctx, keys, `SELECT name, version, available, framework, flavors, digest, signature, requirements, conda, read_at
		FROM model_version_facts WHERE `, func(rows *sql.Rows) error {
		var f models.Facts
		var available int
		var flavors, sig string
		if err := rows.Scan(&f.Key.Name, &f.Key.Version, &available, &f.Framework, &flavors, &f.Digest, &sig, &f.Requirements, &f.Conda, &f.ReadAt); err != nil {
			return err
		}
		f.Available = available == 1
		if err := json.Unmarshal([]byte(flavors), &f.Flavors); err != nil {
			return fmt.Errorf("facts of %s/%d: flavors: %w", f.Key.Name, f.Key.Version, err)
		}
		if sig != "" {
			f.Signature = &models.Signature{}
			if err := json.Unmarshal([]byte(sig), f.Signature); err != nil {
				return fmt.Errorf("facts of %s/%d: signature: %w", f.Key.Name, f.Key.Version, err)
			}
		}
		out[f.Key] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load model version facts: %w", err)
	}
	return out, nil
}

// PutModelFacts caches a version's facts, replacing what was there.
func (s *Store) PutModelFacts(ctx context.Context, f models.Facts) error {
	flavors, err := json.Marshal(f.Flavors)
	if err != nil {
		return err
	}
	if f.Flavors == nil {
		flavors = []byte("[]")
	}
	sig := ""
	if f.Signature != nil {
		b, err := json.Marshal(f.Signature)
		if err != nil {
			return err
		}
		sig = string(b)
	}
	available := 0
	if f.Available {
		available = 1
	}
	_, err = s.exec(ctx, nil, `INSERT INTO model_version_facts (name, version, available, framework, flavors, digest, signature, requirements, conda, read_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET available = excluded.available, framework = excluded.framework,
		flavors = excluded.flavors, digest = excluded.digest, signature = excluded.signature, requirements = excluded.requirements,
		conda = excluded.conda, read_at = excluded.read_at`,
		f.Key.Name, f.Key.Version, available, f.Framework, string(flavors), f.Digest, sig, f.Requirements, f.Conda, f.ReadAt)
	if err != nil {
		return fmt.Errorf("cache model version facts: %w", err)
	}
	return nil
}

// idBatches turns ids into query arguments, in batches the drivers accept.
func idBatches(ids []string) [][]any {
	var out [][]any
	for start := 0; start < len(ids); start += 800 {
		batch := ids[start:min(start+800, len(ids))]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		out = append(out, args)
	}
	return out
}

// GetRuns returns the runs among ids that exist, with params, latest
// metrics, tags and inputs; a few queries for all of them.
func (s *Store) GetRuns(ctx context.Context, ids []string) ([]tracking.Run, error) {
	var runs []tracking.Run
	for _, args := range idBatches(ids) {
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+runInfoColumns+` FROM runs r JOIN experiments e ON e.id = r.experiment_id
			WHERE r.id IN (`+placeholders(len(args))+`) ORDER BY r.id`), args...)
		if err != nil {
			return nil, fmt.Errorf("get runs: %w", err)
		}
		var page []tracking.Run
		for rows.Next() {
			ri, err := scanRunInfo(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			page = append(page, tracking.Run{Info: ri})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if err := s.loadRunData(ctx, page); err != nil {
			return nil, err
		}
		runs = append(runs, page...)
	}
	return runs, nil
}

// LoggedModelRuns maps logged model ids to their source runs.
func (s *Store) LoggedModelRuns(ctx context.Context, modelIDs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, args := range idBatches(modelIDs) {
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, source_run_id FROM logged_models WHERE id IN (`+placeholders(len(args))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("logged model runs: %w", err)
		}
		for rows.Next() {
			var id, run string
			if err := rows.Scan(&id, &run); err != nil {
				rows.Close()
				return nil, err
			}
			if run != "" {
				out[id] = run
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// JobCode returns the repository of each job's project and the revision
// the job ran (its ref; the project's default branch when none was given).
func (s *Store) JobCode(ctx context.Context, jobIDs []string) (map[string]models.Code, error) {
	out := map[string]models.Code{}
	for _, args := range idBatches(jobIDs) {
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT j.id, j.spec, COALESCE(p.repo_url, '') FROM jobs j
			LEFT JOIN projects p ON p.team = j.team AND p.name = j.project WHERE j.id IN (`+placeholders(len(args))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("job code: %w", err)
		}
		for rows.Next() {
			var id, spec, repo string
			if err := rows.Scan(&id, &spec, &repo); err != nil {
				rows.Close()
				return nil, err
			}
			var sp jobSpec
			_ = json.Unmarshal([]byte(spec), &sp) // a spec that does not decode has no ref
			out[id] = models.Code{Repository: repo, Commit: sp.Ref}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
