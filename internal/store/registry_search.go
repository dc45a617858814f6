package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/tracking"
)

var registryOrderColumns = map[string]sortKey{
	"name":                   {expr: "m.name", kind: 's'},
	"creation_timestamp":     {expr: "m.creation_time", kind: 'i'},
	"last_updated_timestamp": {expr: "m.last_update_time", kind: 'i'},
	"version_number":         {expr: "v.version", kind: 'i'},
}

// registryKeys turns order-by terms into sort keys over the given table
// alias and appends the unique tiebreak keys.
func registryKeys(obs []tracking.OrderBy, alias string, def []sortKey, tiebreak []sortKey) []sortKey {
	var keys []sortKey
	seen := map[string]bool{}
	for _, o := range obs {
		k := registryOrderColumns[o.Key]
		if alias == "v" && o.Key != "version_number" {
			k.expr = strings.Replace(k.expr, "m.", "v.", 1)
		}
		k.desc = o.Desc
		keys = append(keys, k)
		seen[k.expr] = true
	}
	if len(keys) == 0 {
		keys = append(keys, def...)
		for _, k := range def {
			seen[k.expr] = true
		}
	}
	for _, k := range tiebreak {
		if !seen[k.expr] {
			keys = append(keys, k)
		}
	}
	return keys
}

// SearchRegisteredModels returns a page of models, by name unless ordered
// otherwise.
func (s *Store) SearchRegisteredModels(ctx context.Context, q modelregistry.ModelQuery) ([]modelregistry.RegisteredModel, string, error) {
	var w cond
	for _, c := range q.Filter {
		if c.Entity == tracking.EntityTag && c.Op == tracking.OpNe {
			// As MLflow's registry: a model without the tag is not equal to
			// the value (the 3.x client filters prompts out this way).
			w.add("m.name NOT IN (SELECT name FROM registered_model_tags WHERE key = ? AND value = ?)", c.Key, c.Value)
			continue
		}
		if c.Entity == tracking.EntityTag {
			pred, args := s.keyedFilter("m.name", "registered_model_tags", "name", c)
			w.add(pred, args...)
			continue
		}
		pred, args := s.textOp("m.name", c.Op, c.Value, c.Values)
		w.add(pred, args...)
	}
	name := sortKey{expr: "m.name", kind: 's'}
	keys := registryKeys(q.OrderBy, "m", []sortKey{name}, []sortKey{name})
	if err := s.pageWhere(&w, q.PageToken, keys); err != nil {
		return nil, "", err
	}
	query := "SELECT m.name, m.team, m.description, m.creation_time, m.last_update_time, " + keyColumns(keys) +
		" FROM registered_models m" + w.where() + orderBySQL(keys) + " LIMIT ?"
	rows, err := s.db.QueryContext(ctx, s.q(query), append(w.args, q.MaxResults+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("search registered models: %w", err)
	}
	defer rows.Close()
	var out []modelregistry.RegisteredModel
	var rowVals [][]any
	for rows.Next() {
		var m modelregistry.RegisteredModel
		dst, vals := scanKeys(keys)
		if err := rows.Scan(append([]any{&m.Name, &m.Team, &m.Description, &m.CreationTime, &m.LastUpdatedTime}, dst...)...); err != nil {
			return nil, "", err
		}
		out = append(out, m)
		rowVals = append(rowVals, vals())
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	rows.Close()
	next := ""
	if len(out) > q.MaxResults {
		out = out[:q.MaxResults]
		next = encodeToken(rowVals[q.MaxResults-1])
	}
	return out, next, s.loadModelChildren(ctx, out)
}

// SearchModelVersions returns a page of versions, newest first per model
// unless ordered otherwise.
func (s *Store) SearchModelVersions(ctx context.Context, q modelregistry.VersionQuery) ([]modelregistry.ModelVersion, string, error) {
	var w cond
	for _, c := range q.Filter {
		switch {
		case c.Entity == tracking.EntityTag:
			var args []any
			var pred string
			switch c.Op {
			case tracking.OpNe:
				pred, args = "NOT EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = v.name AND t.version = v.version AND t.key = ? AND t.value = ?)",
					[]any{c.Key, c.Value}
			case tracking.OpIsNull, tracking.OpIsNotNull:
				not := ""
				if c.Op == tracking.OpIsNull {
					not = "NOT "
				}
				pred, args = not+"EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = v.name AND t.version = v.version AND t.key = ?)", []any{c.Key}
			default:
				p, a := s.textOp("t.value", c.Op, c.Value, c.Values)
				pred, args = "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = v.name AND t.version = v.version AND t.key = ? AND "+p+")",
					append([]any{c.Key}, a...)
			}
			w.add(pred, args...)
		case c.Key == "version_number":
			w.add("v.version "+c.Op+" ?", int64(c.Number))
		default:
			col := map[string]string{"name": "v.name", "run_id": "v.run_id", "source_path": "v.source"}[c.Key]
			pred, args := s.textOp(col, c.Op, c.Value, c.Values)
			w.add(pred, args...)
		}
	}
	vname, vnum := sortKey{expr: "v.name", kind: 's'}, sortKey{expr: "v.version", kind: 'i'}
	keys := registryKeys(q.OrderBy, "v", []sortKey{vname, {expr: "v.version", desc: true, kind: 'i'}}, []sortKey{vname, vnum})
	for _, c := range q.Filter {
		if c.Entity != tracking.EntityTag && c.Key == "name" && c.Op == tracking.OpEq {
			for i := range keys {
				keys[i].pinned = keys[i].pinned || keys[i].expr == "v.name"
			}
		}
	}
	if err := s.pageWhere(&w, q.PageToken, keys); err != nil {
		return nil, "", err
	}
	query := "SELECT " + versionColumns + ", " + keyColumns(keys) + " FROM model_versions v JOIN registered_models m ON m.name = v.name" +
		w.where() + orderBySQL(keys) + " LIMIT ?"
	rows, err := s.db.QueryContext(ctx, s.q(query), append(w.args, q.MaxResults+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("search model versions: %w", err)
	}
	defer rows.Close()
	var out []modelregistry.ModelVersion
	var rowVals [][]any
	for rows.Next() {
		dst, vals := scanKeys(keys)
		v, err := scanVersion(rows, dst...)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
		rowVals = append(rowVals, vals())
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	rows.Close()
	next := ""
	if len(out) > q.MaxResults {
		out = out[:q.MaxResults]
		next = encodeToken(rowVals[q.MaxResults-1])
	}
	return out, next, s.loadVersionChildren(ctx, out)
}

func keyColumns(keys []sortKey) string {
	cols := make([]string, len(keys))
	for i, k := range keys {
		cols[i] = k.expr
	}
	return strings.Join(cols, ", ")
}

// pageWhere adds the keyset predicate of a page token to w.
func (s *Store) pageWhere(w *cond, token string, keys []sortKey) error {
	if token == "" {
		return nil
	}
	vals, err := decodeToken(token, keys)
	if err != nil {
		return err
	}
	pred, args := afterSQL(keys, vals)
	w.add(pred, args...)
	return nil
}
