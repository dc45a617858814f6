package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/datasets"
)

// newDatasetsCmd is `mlportal datasets`: register data by content hash
// with its profile, and read the quality reports.
func newDatasetsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "datasets", Aliases: []string{"dataset"},
		Short: "Datasets: register data by content hash with its schema and profile; quality reports against the project's template"}

	var team, project, name, uri, hash, desc string
	var rows int64
	register := &cobra.Command{
		Use:   "register FILE_OR_URI",
		Short: "Register a dataset version (a local CSV file is hashed and profiled here, streaming)",
		Long: `Register a version of a dataset. For a local CSV file, mlportal computes its SHA-256, row count,
column types and profile (nulls, distinct values, min and max per column, duplicate rows) here,
reading the file once, and records file://<path> as its URI unless --uri says where the data lives.
Other local files are hashed only. For data elsewhere (s3://…), pass --content-hash (and --rows).

With --project, the profile is checked against the dataExpectations of the project's lifecycle
template; a model trained on a version whose report failed cannot be registered.`,
		Example: `  mlportal datasets register data/train.csv --team fraud --project churn --name churn-train --uri s3://data/churn/train.csv
  mlportal datasets register s3://data/events/2025-03.parquet --team fraud --name events --content-hash sha256:3f2a… --rows 1200000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team == "" || name == "" {
				return usageError("--team and --name are required: the owning team and the dataset's name (e.g. churn-train)")
			}
			body := api.DatasetRegister{Team: team, Project: optional(project), Name: name, Description: optional(desc)}
			if cmd.Flags().Changed("rows") {
				body.RowCount = &rows
			}
			src := args[0]
			if path, local := localPath(src); local {
				if err := describeFile(path, &body); err != nil {
					return err
				}
				body.Uri = "file://" + path
			} else {
				if hash == "" {
					return usageError("%s is not a local file: pass its --content-hash (sha256:<hex> of the data), and --rows if you know them", src)
				}
				body.Uri = src
			}
			if uri != "" {
				body.Uri = uri
			}
			if hash != "" {
				if body.ContentHash != "" && !strings.EqualFold(strings.TrimPrefix(hash, "sha256:"), strings.TrimPrefix(body.ContentHash, "sha256:")) {
					return usageError("--content-hash %s is not the file's SHA-256 (%s)", hash, body.ContentHash)
				}
				body.ContentHash = hash
			}
			r, err := c.api.RegisterDatasetWithResponse(cmd.Context(), &api.RegisterDatasetParams{}, body)
			if err := c.result(r, err); err != nil {
				return err
			}
			v, verb := r.JSON201, "Registered"
			if v == nil {
				v, verb = r.JSON200, "Already registered (same content)"
			}
			if p.format != "table" {
				return p.print(v, nil, nil)
			}
			p.note("%s %s version %d: %s, quality %s.\n", verb, v.Name, v.Version, v.ContentHash, v.Quality.Status)
			if err := qualityTable(p, *v); err != nil {
				return err
			}
			switch v.Quality.Status {
			case api.QualityReportStatusFailed:
				p.note("\nModels trained on this version cannot be registered. Fix the data and register it again.")
			case api.QualityReportStatusUnchecked:
				p.note("\nNot checked: register with --project to check it against the project's lifecycle template.")
			}
			p.note("Log it in your training run so the model's lineage shows it:\n  mlflow.log_input(mlflow.data.from_pandas(df, source=%q, digest=%q))", v.Uri, v.ContentHash)
			return nil
		},
	}
	f := register.Flags()
	f.StringVar(&team, "team", "", "owning team (required)")
	f.StringVar(&project, "project", "", "the project whose lifecycle template's dataExpectations check the data")
	f.StringVar(&name, "name", "", "the dataset's name, e.g. churn-train (required)")
	f.StringVar(&uri, "uri", "", "where the data lives, recorded instead of file://<path> (e.g. the s3:// it was downloaded from)")
	f.StringVar(&hash, "content-hash", "", "sha256:<hex> of the data (computed for local files)")
	f.Int64Var(&rows, "rows", 0, "the number of rows (computed for local CSV files)")
	f.StringVar(&desc, "description", "", "what the data is")

	show := &cobra.Command{
		Use:   "show NAME [VERSION]",
		Short: "Show a dataset's versions, or one version with its profile and quality report",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if len(args) == 2 {
				v, err := strconv.Atoi(args[1])
				if err != nil || v < 1 {
					return usageError("VERSION must be a version number such as 2 (got %q)", args[1])
				}
				r, err := c.api.GetDatasetVersionWithResponse(cmd.Context(), args[0], v)
				if err := c.result(r, err); err != nil {
					return err
				}
				dv := r.JSON200
				if p.format != "table" {
					return p.print(dv, nil, nil)
				}
				p.note("%s version %d of team %s: %s, %s rows, %s; quality %s.\n", dv.Name, dv.Version, dv.Team, dv.Uri, count(dv.RowCount), dv.ContentHash, dv.Quality.Status)
				if err := profileTable(p, *dv); err != nil {
					return err
				}
				fmt.Fprintln(p.w)
				return qualityTable(p, *dv)
			}
			r, err := c.api.GetDatasetWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			d := r.JSON200
			if err := p.print(d, []string{"VERSION", "QUALITY", "ROWS", "HASH", "URI", "PROJECT", "CREATED"}, func() [][]string {
				out := make([][]string, len(d.Versions))
				for i, v := range d.Versions {
					out[i] = []string{strconv.Itoa(v.Version), string(v.Quality.Status), count(v.RowCount), v.ContentHash, v.Uri, orDash(v.Project),
						v.CreatedAt.Format("2006-01-02 15:04")}
				}
				return out
			}); err != nil {
				return err
			}
			if len(d.Versions) > 0 {
				p.note("\nOne version's profile and quality report: mlportal datasets show %s %d", d.Name, d.Versions[0].Version)
			}
			return nil
		},
	}

	var listTeam string
	list := &cobra.Command{
		Use:   "list",
		Short: "List datasets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			items, err := allPages(func(token *string) ([]api.Dataset, *string, error) {
				r, err := c.api.ListDatasetsWithResponse(cmd.Context(), &api.ListDatasetsParams{Team: optional(listTeam), PageToken: token})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			return p.print(items, []string{"NAME", "TEAM", "VERSIONS", "LATEST QUALITY"}, func() [][]string {
				out := make([][]string, len(items))
				for i, d := range items {
					q := "-"
					if len(d.Versions) > 0 {
						q = string(d.Versions[0].Quality.Status)
					}
					out[i] = []string{d.Name, d.Team, strconv.Itoa(len(d.Versions)), q}
				}
				return out
			})
		},
	}
	list.Flags().StringVar(&listTeam, "team", "", "only the datasets of this team")

	cmd.AddCommand(register, show, list)
	return cmd
}

// localPath reports whether src names a local file (a path, or file://),
// and its absolute path.
func localPath(src string) (string, bool) {
	if rest, ok := strings.CutPrefix(src, "file://"); ok {
		src = rest
	} else if strings.Contains(src, "://") || strings.HasPrefix(src, "mlflow-artifacts:") {
		return "", false
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", false
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		return "", false
	}
	return abs, true
}

// describeFile fills the content hash and, for a CSV file, the row count,
// schema and profile.
func describeFile(path string, body *api.DatasetRegister) error {
	fh, err := os.Open(path)
	if err != nil {
		return &Error{Code: ExitError, Message: err.Error()}
	}
	defer fh.Close()
	if !strings.EqualFold(filepath.Ext(path), ".csv") {
		h := sha256.New()
		if _, err := io.Copy(h, fh); err != nil {
			return &Error{Code: ExitError, Message: fmt.Sprintf("read %s: %v", path, err)}
		}
		body.ContentHash = "sha256:" + hex.EncodeToString(h.Sum(nil))
		return nil
	}
	prof, err := datasets.ProfileCSV(fh)
	if err != nil {
		return &Error{Code: ExitInvalid, Message: fmt.Sprintf("%s: %v", path, err), Hint: "fix the file, or register it as data elsewhere with --content-hash"}
	}
	body.ContentHash = prof.ContentHash
	if body.RowCount == nil {
		body.RowCount = &prof.RowCount
	}
	schema := make([]api.ColumnSpec, len(prof.Schema))
	for i, c := range prof.Schema {
		schema[i] = api.ColumnSpec{Name: optional(c.Name), Type: c.Type}
		if c.Optional {
			schema[i].Optional = &prof.Schema[i].Optional
		}
	}
	body.Schema = &schema
	cols := make([]struct {
		Distinct *int64   `json:"distinct,omitempty"`
		Max      *float64 `json:"max,omitempty"`
		Min      *float64 `json:"min,omitempty"`
		Name     string   `json:"name"`
		Nulls    *int64   `json:"nulls,omitempty"`
	}, len(prof.Profile.Columns))
	for i, c := range prof.Profile.Columns {
		cols[i].Name, cols[i].Nulls, cols[i].Distinct, cols[i].Min, cols[i].Max = c.Name, c.Nulls, c.Distinct, c.Min, c.Max
	}
	body.Profile = &api.DatasetProfile{DuplicateRows: prof.Profile.DuplicateRows, Columns: &cols}
	return nil
}

func count(n *int64) string {
	if n == nil {
		return "?"
	}
	return strconv.FormatInt(*n, 10)
}

func qualityTable(p printer, v api.DatasetVersion) error {
	return p.print(v.Quality, []string{"CHECK", "COLUMN", "EXPECTED", "ACTUAL", "RESULT", "MESSAGE"}, func() [][]string {
		out := make([][]string, len(v.Quality.Checks))
		for i, c := range v.Quality.Checks {
			result := "ok"
			if !c.Passed {
				result = "FAILED"
				if deref(c.Actual) == "unknown" {
					result = "not checked"
				}
			}
			out[i] = []string{c.Check, orDash(c.Column), orDash(c.Expected), orDash(c.Actual), result, c.Message}
		}
		return out
	})
}

func profileTable(p printer, v api.DatasetVersion) error {
	types := map[string]string{}
	for _, c := range deref(v.Schema) {
		types[deref(c.Name)] = c.Type
	}
	var rows [][]string
	if v.Profile != nil {
		for _, c := range deref(v.Profile.Columns) {
			rows = append(rows, []string{c.Name, orDash(optional(types[c.Name])), count(c.Nulls), count(c.Distinct), num(c.Min), num(c.Max)})
		}
	}
	return p.print(v.Profile, []string{"COLUMN", "TYPE", "NULLS", "DISTINCT", "MIN", "MAX"}, func() [][]string { return rows })
}

func num(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}
