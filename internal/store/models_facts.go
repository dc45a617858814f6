package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/mlportal/mlportal/internal/modelregistry"
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
	err := s.inVersionKeys("", keys, func(pred string, args []any) error {
		return s.eachRow(ctx, "model version facts", `SELECT name, version, available, framework, flavors, digest, signature, requirements, conda, read_at
			FROM model_version_facts WHERE `+pred, args, func(rows *sql.Rows) error {
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
	})
	return out, err
}

// PutModelFacts caches a version's facts, replacing what was there.
func (s *Store) PutModelFacts(ctx context.Context, f models.Facts) error {
	flavors := []byte("[]")
	if len(f.Flavors) > 0 {
		var err error
		if flavors, err = json.Marshal(f.Flavors); err != nil {
			return err
		}
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
	_, err := s.exec(ctx, nil, `INSERT INTO model_version_facts (name, version, available, framework, flavors, digest, signature, requirements, conda, read_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET available = excluded.available, framework = excluded.framework,
		flavors = excluded.flavors, digest = excluded.digest, signature = excluded.signature, requirements = excluded.requirements,
		conda = excluded.conda, read_at = excluded.read_at`,
		f.Key.Name, f.Key.Version, available, f.Framework, string(flavors), f.Digest, sig, f.Requirements, f.Conda, f.ReadAt)
	if err != nil {
		return fmt.Errorf("cache model version facts: %w", err)
	}
	return nil
}

// GetRuns returns the runs among ids that exist, with their params, latest
// metrics, dataset inputs and the tags named in tagKeys (all tags when
// none are named): one query per table for all of them.
func (s *Store) GetRuns(ctx context.Context, ids []string, tagKeys ...string) ([]tracking.Run, error) {
	var runs []tracking.Run
	idx := map[string]int{}
	err := s.inStrings("r.id", ids, func(pred string, args []any) error {
		return s.eachRow(ctx, "runs", `SELECT `+runInfoColumns+` FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE `+pred+` ORDER BY r.id`, args,
			func(rows *sql.Rows) error {
				ri, err := scanRunInfo(rows)
				if err != nil {
					return err
				}
				idx[ri.ID] = len(runs)
				runs = append(runs, tracking.Run{Info: ri})
				return nil
			})
	})
	if err != nil || len(runs) == 0 {
		return runs, err
	}
	found := make([]string, len(runs))
	for i, r := range runs {
		found[i] = r.Info.ID
	}
	var runID string
	load := func(what, query string, extra []any, scan func(*sql.Rows) error) error {
		return s.inStrings("run_id", found, func(pred string, args []any) error {
			return s.eachRow(ctx, what, fmt.Sprintf(query, pred), append(args, extra...), scan)
		})
	}
	if err := load("params", `SELECT run_id, key, value FROM run_params WHERE %s`, nil, func(rows *sql.Rows) error {
		var p tracking.Param
		if err := rows.Scan(&runID, &p.Key, &p.Value); err != nil {
			return err
		}
		runs[idx[runID]].Params = append(runs[idx[runID]].Params, p)
		return nil
	}); err != nil {
		return nil, err
	}
	tagQuery, tagArgs := `SELECT run_id, key, value FROM run_tags WHERE %s`, []any(nil)
	if len(tagKeys) > 0 {
		tagQuery += ` AND key IN (` + placeholders(len(tagKeys)) + `)`
		for _, k := range tagKeys {
			tagArgs = append(tagArgs, k)
		}
	}
	if err := load("tags", tagQuery, tagArgs, func(rows *sql.Rows) error {
		var t tracking.Tag
		if err := rows.Scan(&runID, &t.Key, &t.Value); err != nil {
			return err
		}
		runs[idx[runID]].Tags = append(runs[idx[runID]].Tags, t)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := load("metrics", `SELECT `+latestMetricColumns+` FROM run_latest_metrics WHERE %s`, nil, func(rows *sql.Rows) error {
		runID, m, err := scanLatestMetric(rows)
		if err != nil {
			return err
		}
		runs[idx[runID]].Metrics = append(runs[idx[runID]].Metrics, m)
		return nil
	}); err != nil {
		return nil, err
	}
	return runs, load("inputs", `SELECT run_id, name, digest, source_type, source FROM run_inputs WHERE %s AND kind = 'dataset' ORDER BY run_id, position`, nil,
		func(rows *sql.Rows) error {
			var d tracking.Dataset
			if err := rows.Scan(&runID, &d.Name, &d.Digest, &d.SourceType, &d.Source); err != nil {
				return err
			}
			runs[idx[runID]].Inputs = append(runs[idx[runID]].Inputs, tracking.DatasetInput{Dataset: d})
			return nil
		})
}

// LoggedModelRuns maps logged model ids to their source runs.
func (s *Store) LoggedModelRuns(ctx context.Context, modelIDs []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.inStrings("id", modelIDs, func(pred string, args []any) error {
		return s.eachRow(ctx, "logged model runs", `SELECT id, source_run_id FROM logged_models WHERE `+pred, args, func(rows *sql.Rows) error {
			var id, run string
			if err := rows.Scan(&id, &run); err != nil {
				return err
			}
			if run != "" {
				out[id] = run
			}
			return nil
		})
	})
	return out, err
}

// JobCode returns the repository of each job's project and the revision
// the job ran (its ref; "" for the project's default branch).
func (s *Store) JobCode(ctx context.Context, jobIDs []string) (map[string]models.Code, error) {
	out := map[string]models.Code{}
	err := s.inStrings("j.id", jobIDs, func(pred string, args []any) error {
		return s.eachRow(ctx, "job code", `SELECT j.id, j.spec, COALESCE(p.repo_url, '') FROM jobs j
			LEFT JOIN projects p ON p.team = j.team AND p.name = j.project WHERE `+pred, args, func(rows *sql.Rows) error {
			var id, spec, repo string
			if err := rows.Scan(&id, &spec, &repo); err != nil {
				return err
			}
			var sp jobSpec
			_ = json.Unmarshal([]byte(spec), &sp) // a spec that does not decode has no ref
			out[id] = models.Code{Repository: repo, Commit: sp.Ref}
			return nil
		})
	})
	return out, err
}

// loadListing fills the tags, aliases and latest version of each stage (with
// its tags and aliases) of a page of models; what loadModelChildren does
// for MLflow's searches, with set parameters for pages of hundreds.
func (s *Store) loadListing(ctx context.Context, ms []modelregistry.RegisteredModel) error {
	if len(ms) == 0 {
		return nil
	}
	names := make([]string, len(ms))
	idx := make(map[string]int, len(ms))
	for i, m := range ms {
		names[i], idx[m.Name] = m.Name, i
	}
	byName := func(what, query string, scan func(*sql.Rows) error) error {
		return s.inStrings("name", names, func(pred string, args []any) error {
			return s.eachRow(ctx, what, fmt.Sprintf(query, pred), args, scan)
		})
	}
	var name string
	if err := byName("model tags", `SELECT name, key, value FROM registered_model_tags WHERE %s ORDER BY name, key`, func(rows *sql.Rows) error {
		var t tracking.Tag
		if err := rows.Scan(&name, &t.Key, &t.Value); err != nil {
			return err
		}
		ms[idx[name]].Tags = append(ms[idx[name]].Tags, t)
		return nil
	}); err != nil {
		return err
	}
	type key = models.VersionKey
	aliases := map[key][]string{}
	if err := byName("model aliases", `SELECT name, alias, version FROM registered_model_aliases WHERE %s ORDER BY name, alias`, func(rows *sql.Rows) error {
		var a modelregistry.Alias
		if err := rows.Scan(&name, &a.Alias, &a.Version); err != nil {
			return err
		}
		ms[idx[name]].Aliases = append(ms[idx[name]].Aliases, a)
		aliases[key{Name: name, Version: a.Version}] = append(aliases[key{Name: name, Version: a.Version}], a.Alias)
		return nil
	}); err != nil {
		return err
	}
	var latest []modelregistry.ModelVersion
	if err := s.inStrings("name", names, func(pred string, args []any) error {
		// Driven from the page's few latest versions, not from all versions.
		return s.eachRow(ctx, "latest versions", `SELECT `+versionColumns+` FROM (SELECT name, MAX(version) AS version FROM model_versions
			WHERE `+pred+` GROUP BY name, current_stage) l JOIN model_versions v ON v.name = l.name AND v.version = l.version
			JOIN registered_models m ON m.name = v.name ORDER BY v.name, v.version`, args, func(rows *sql.Rows) error {
			v, err := scanVersion(rows)
			latest = append(latest, v)
			return err
		})
	}); err != nil {
		return err
	}
	keys := make([]key, len(latest))
	vidx := make(map[key]int, len(latest))
	for i, v := range latest {
		keys[i] = key{Name: v.Name, Version: v.Version}
		vidx[keys[i]] = i
		latest[i].Aliases = aliases[keys[i]]
	}
	if err := s.inVersionKeys("", keys, func(pred string, args []any) error {
		return s.eachRow(ctx, "version tags", `SELECT name, version, key, value FROM model_version_tags WHERE `+pred+` ORDER BY name, version, key`, args,
			func(rows *sql.Rows) error {
				var k key
				var t tracking.Tag
				if err := rows.Scan(&k.Name, &k.Version, &t.Key, &t.Value); err != nil {
					return err
				}
				if i, ok := vidx[k]; ok {
					latest[i].Tags = append(latest[i].Tags, t)
				}
				return nil
			})
	}); err != nil {
		return err
	}
	for _, v := range latest {
		ms[idx[v.Name]].LatestVersions = append(ms[idx[v.Name]].LatestVersions, v)
	}
	return nil
}
