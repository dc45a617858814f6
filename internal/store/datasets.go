package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mlportal/mlportal/internal/datasets"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/models"
)

var _ datasets.Repository = (*Store)(nil)

const datasetVersionColumns = `v.name, d.team, v.version, v.project, v.uri, v.content_hash, v.description, v.row_count, v.dataset_schema,
	v.profile, v.quality, v.created_by, v.creation_time`

func scanDatasetVersion(sc interface{ Scan(...any) error }) (datasets.Version, error) {
	var v datasets.Version
	var rows sql.NullInt64
	var schema, profile, quality string
	var created int64
	if err := sc.Scan(&v.Name, &v.Team, &v.Version, &v.Project, &v.URI, &v.ContentHash, &v.Description, &rows, &schema, &profile, &quality,
		&v.CreatedBy, &created); err != nil {
		return v, err
	}
	if rows.Valid {
		n := rows.Int64
		v.RowCount = &n
	}
	v.CreatedAt = fromMillis(created)
	if schema != "" {
		if err := json.Unmarshal([]byte(schema), &v.Schema); err != nil {
			return v, fmt.Errorf("dataset %s version %d: schema: %w", v.Name, v.Version, err)
		}
	}
	if profile != "" {
		v.Profile = &datasets.Profile{}
		if err := json.Unmarshal([]byte(profile), v.Profile); err != nil {
			return v, fmt.Errorf("dataset %s version %d: profile: %w", v.Name, v.Version, err)
		}
	}
	if err := json.Unmarshal([]byte(quality), &v.Quality); err != nil {
		return v, fmt.Errorf("dataset %s version %d: quality: %w", v.Name, v.Version, err)
	}
	return v, nil
}

func jsonText(v any, empty bool) (string, error) {
	if empty {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// RegisterDatasetVersion records v as its dataset's next version (the
// dataset is created for v.Team on first use), or returns the version that
// already has v's content hash.
func (s *Store) RegisterDatasetVersion(ctx context.Context, v datasets.Version) (datasets.Version, bool, error) {
	schema, err := jsonText(v.Schema, v.Schema == nil)
	if err != nil {
		return v, false, err
	}
	profile, err := jsonText(v.Profile, v.Profile == nil)
	if err != nil {
		return v, false, err
	}
	quality, err := jsonText(v.Quality, false)
	if err != nil {
		return v, false, err
	}
	var rows any
	if v.RowCount != nil {
		rows = *v.RowCount
	}
	created := v.CreatedAt.UnixMilli()
	var existing bool
	err = s.inChangeTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO datasets (name, team, next_version, creation_time) VALUES (?, ?, 1, ?) ON CONFLICT (name) DO NOTHING`,
			v.Name, v.Team, created); err != nil {
			return fmt.Errorf("create dataset: %w", err)
		}
		// Locks the dataset's row: registrations of one dataset take turns.
		var team string
		if err := s.queryRow(ctx, tx, `UPDATE datasets SET next_version = next_version WHERE name = ? RETURNING team`, v.Name).Scan(&team); err != nil {
			return fmt.Errorf("lock dataset: %w", err)
		}
		if team != v.Team {
			return fault.New(fault.ErrConflict, "dataset %q belongs to team %q", v.Name, team)
		}
		var n int
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM dataset_versions WHERE name = ? AND content_hash = ?`, v.Name, v.ContentHash).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			existing = true
			return nil
		}
		if err := s.queryRow(ctx, tx, `UPDATE datasets SET next_version = next_version + 1 WHERE name = ? RETURNING next_version - 1`, v.Name).Scan(&v.Version); err != nil {
			return fmt.Errorf("allocate dataset version: %w", err)
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO dataset_versions (name, version, project, uri, content_hash, description, row_count, dataset_schema,
			profile, quality, quality_status, created_by, creation_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.Name, v.Version, v.Project, v.URI, v.ContentHash, v.Description, rows, schema, profile, quality, v.Quality.Status, v.CreatedBy, created); err != nil {
			return fmt.Errorf("insert dataset version: %w", err)
		}
		return s.recordChange(ctx, tx, models.ChangeDataset, v.Name, int64(v.Version), models.OpUpsert, created)
	})
	if err != nil {
		return datasets.Version{}, false, err
	}
	if existing {
		vs, err := s.datasetVersionsWhere(ctx, `v.name = ? AND v.content_hash = ?`, v.Name, v.ContentHash)
		if err != nil || len(vs) == 0 {
			return datasets.Version{}, false, errors.Join(err, fmt.Errorf("dataset %s: version with %s vanished", v.Name, v.ContentHash))
		}
		return vs[0], false, nil
	}
	v.CreatedAt = fromMillis(created)
	return v, true, nil
}

func (s *Store) datasetVersionsWhere(ctx context.Context, where string, args ...any) ([]datasets.Version, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+datasetVersionColumns+` FROM dataset_versions v JOIN datasets d ON d.name = v.name WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("load dataset versions: %w", err)
	}
	defer rows.Close()
	var out []datasets.Version
	for rows.Next() {
		v, err := scanDatasetVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// GetDataset returns a dataset with its versions, newest first.
func (s *Store) GetDataset(ctx context.Context, name string) (datasets.Dataset, error) {
	d := datasets.Dataset{Name: name}
	err := s.queryRow(ctx, nil, `SELECT team FROM datasets WHERE name = ?`, name).Scan(&d.Team)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fault.New(fault.ErrNotFound, "dataset %q not found; register it with mlportal datasets register", name)
	}
	if err != nil {
		return d, fmt.Errorf("get dataset: %w", err)
	}
	if d.Versions, err = s.datasetVersionsWhere(ctx, `v.name = ? ORDER BY v.version DESC`, name); err != nil {
		return d, err
	}
	if d.Versions == nil {
		d.Versions = []datasets.Version{}
	}
	return d, nil
}

// GetDatasetVersion returns one version.
func (s *Store) GetDatasetVersion(ctx context.Context, name string, version int) (datasets.Version, error) {
	vs, err := s.datasetVersionsWhere(ctx, `v.name = ? AND v.version = ?`, name, version)
	if err != nil {
		return datasets.Version{}, err
	}
	if len(vs) == 0 {
		return datasets.Version{}, fault.New(fault.ErrNotFound, "dataset %q has no version %d", name, version)
	}
	return vs[0], nil
}

// ListDatasets returns up to limit datasets after `after`, by name, each
// with its versions newest first.
func (s *Store) ListDatasets(ctx context.Context, team, after string, limit int) ([]datasets.Dataset, error) {
	q, args := `SELECT name, team FROM datasets WHERE name > ?`, []any{after}
	if team != "" {
		q, args = q+` AND team = ?`, append(args, team)
	}
	rows, err := s.query(ctx, nil, q+` ORDER BY name LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	var out []datasets.Dataset
	idx := map[string]int{}
	var names []string
	for rows.Next() {
		var d datasets.Dataset
		if err := rows.Scan(&d.Name, &d.Team); err != nil {
			rows.Close()
			return nil, err
		}
		d.Versions = []datasets.Version{}
		idx[d.Name] = len(out)
		names = append(names, d.Name)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	err = s.inStrings("v.name", names, func(pred string, args []any) error {
		vs, err := s.datasetVersionsWhere(ctx, pred+` ORDER BY v.name, v.version DESC`, args...)
		for _, v := range vs {
			out[idx[v.Name]].Versions = append(out[idx[v.Name]].Versions, v)
		}
		return err
	})
	return out, err
}

// FindDatasetVersions returns the versions with any of the hashes or URIs.
func (s *Store) FindDatasetVersions(ctx context.Context, hashes, uris []string) ([]datasets.Version, error) {
	var out []datasets.Version
	err := s.inStrings("v.content_hash", hashes, func(pred string, args []any) error {
		vs, err := s.datasetVersionsWhere(ctx, pred, args...)
		out = append(out, vs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	// By URI through the index on its first 200 characters.
	prefixes := make([]string, len(uris))
	for i, u := range uris {
		prefixes[i] = truncate(u, 200)
	}
	want := map[string]bool{}
	for _, u := range uris {
		want[u] = true
	}
	err = s.inStrings("substr(v.uri, 1, 200)", prefixes, func(pred string, args []any) error {
		vs, err := s.datasetVersionsWhere(ctx, pred, args...)
		for _, v := range vs {
			if want[v.URI] {
				out = append(out, v)
			}
		}
		return err
	})
	return out, err
}

// truncate cuts s to at most n characters (not bytes), as SQL's substr.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.Clone(string(r[:n]))
}
