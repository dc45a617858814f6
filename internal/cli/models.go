package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
)

// newModelsCmd is `mlportal models`: the registry view of mlportal's
// models (registered with MLflow), their lineage, history and approvals.
func newModelsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "models", Aliases: []string{"model"},
		Short: "Registered models: versions with their runs, data and code; lineage, history and approvals"}

	var team, project, q string
	list := &cobra.Command{
		Use:     "list",
		Short:   "List registered models",
		Example: "  mlportal models list --team fraud\n  mlportal models list --project churn -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			limit := 500
			items, err := allPages(func(token *string) ([]api.Model, *string, error) {
				r, err := c.api.ListModelsWithResponse(cmd.Context(), &api.ListModelsParams{Team: optional(team), Project: optional(project),
					Q: optional(q), Limit: &limit, PageToken: token})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			if err := p.print(items, []string{"NAME", "TEAM", "PROJECT", "FRAMEWORK", "STAGE", "LATEST", "ALIASES"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, m := range items {
					rows[i] = []string{m.Name, m.Team, orDash(m.Project), orDash(m.Framework), orDash(m.Stage), latest(m), aliases(m.Aliases)}
				}
				return rows
			}); err != nil {
				return err
			}
			if len(items) == 0 {
				p.note("\nNo models yet: register one with MLflow (mlflow.register_model(\"runs:/<run_id>/model\", \"<name>\")).")
			} else {
				p.note("\nDetails: mlportal models show %s   (versions, lineage, history: mlportal models versions|lineage|history %s)", items[0].Name, items[0].Name)
			}
			return nil
		},
	}
	list.Flags().StringVar(&team, "team", "", "only the models of this team")
	list.Flags().StringVar(&project, "project", "", "only the models of this project")
	list.Flags().StringVarP(&q, "query", "q", "", "only models whose name contains this text")

	show := &cobra.Command{
		Use:   "show MODEL [VERSION]",
		Short: "Show a model (or one version): team, project, framework, stage, aliases and versions with their lineage facts",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if len(args) == 2 {
				v, err := parseVersion(args[1])
				if err != nil {
					return err
				}
				r, err := c.api.GetModelVersionWithResponse(cmd.Context(), args[0], v)
				if err := c.result(r, err); err != nil {
					return err
				}
				return printVersion(p, *r.JSON200)
			}
			r, err := c.api.GetModelWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			m := r.JSON200
			if p.format != "table" {
				return p.print(m, nil, nil)
			}
			if err := p.print(m, []string{"FIELD", "VALUE"}, func() [][]string {
				return [][]string{{"name", m.Name}, {"team", m.Team}, {"project", orDash(m.Project)}, {"framework", orDash(m.Framework)},
					{"stage", orDash(m.Stage)}, {"aliases", aliases(m.Aliases)}, {"experiment", orDash(m.ExperimentId)},
					{"description", orDash(m.Description)}, {"updated", m.UpdatedAt.Format("2006-01-02 15:04:05Z07:00")}}
			}); err != nil {
				return err
			}
			fmt.Fprintln(p.w)
			if err := versionsTable(p, m.LatestVersions); err != nil {
				return err
			}
			p.note("\nOne version: mlportal models show %s VERSION   lineage: mlportal models lineage %s   history: mlportal models history %s",
				m.Name, m.Name, m.Name)
			return nil
		},
	}

	versions := &cobra.Command{
		Use:   "versions MODEL",
		Short: "List a model's versions, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			limit := 500
			items, err := allPages(func(token *string) ([]api.ModelVersion, *string, error) {
				r, err := c.api.ListModelVersionsWithResponse(cmd.Context(), args[0], &api.ListModelVersionsParams{Limit: &limit, PageToken: token})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(items, nil, nil)
			}
			if err := versionsTable(p, items); err != nil {
				return err
			}
			p.note("\nOne version in full: mlportal models show %s VERSION", args[0])
			return nil
		},
	}

	lineage := &cobra.Command{
		Use:   "lineage MODEL",
		Short: "Show the lineage graph: dataset versions → runs → model versions → deployments (and jobs → runs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.GetModelLineageWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			l := r.JSON200
			label := map[string]string{}
			for _, n := range l.Nodes {
				label[n.Id] = n.Label
			}
			if err := p.print(l, []string{"FROM", "RELATION", "TO"}, func() [][]string {
				rows := make([][]string, len(l.Edges))
				for i, e := range l.Edges {
					rows[i] = []string{label[e.From] + " (" + e.From + ")", string(e.Kind), label[e.To] + " (" + e.To + ")"}
				}
				return rows
			}); err != nil {
				return err
			}
			if len(l.Edges) == 0 {
				p.note("\nNo lineage yet: register versions from runs (runs:/<run_id>/model) and log the runs' datasets (mlflow.log_input).")
			}
			return nil
		},
	}

	history := &cobra.Command{
		Use:   "history MODEL",
		Short: "Who registered, moved, approved which version, when and why (oldest first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			limit := 500
			items, err := allPages(func(token *string) ([]api.ModelEvent, *string, error) {
				r, err := c.api.GetModelHistoryWithResponse(cmd.Context(), args[0], &api.GetModelHistoryParams{Limit: &limit, PageToken: token})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			return p.print(items, []string{"WHEN", "EVENT", "VERSION", "ALIAS", "FROM", "TO", "BY", "WHY"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, e := range items {
					v := "-"
					if e.Version != nil {
						v = strconv.FormatInt(*e.Version, 10)
					}
					rows[i] = []string{e.At.Format("2006-01-02 15:04:05Z07:00"), string(e.Kind), v, orDash(e.Alias), orDash(e.From), orDash(e.To), e.Actor, orDash(e.Reason)}
				}
				return rows
			})
		},
	}

	var comment string
	var reject, reset bool
	approve := &cobra.Command{
		Use:   "approve MODEL VERSION",
		Short: "Approve a version for production (team maintainers); --reject to reject it, --pending to undo",
		Example: `  mlportal models approve churn 3 --comment "AUC 0.93 on the March holdout"
  mlportal models approve churn 2 --reject --comment "leaks the label"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			v, err := parseVersion(args[1])
			if err != nil {
				return err
			}
			if reject && reset {
				return usageError("--reject and --pending exclude each other")
			}
			status := api.ApprovalChangeStatusApproved
			switch {
			case reject:
				status = api.ApprovalChangeStatusRejected
			case reset:
				status = api.ApprovalChangeStatusPending
			}
			r, err := c.api.SetModelVersionApprovalWithResponse(cmd.Context(), args[0], v, api.ApprovalChange{Status: status, Comment: optional(comment)})
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON200, nil, nil)
			}
			p.note("Version %d of %s is now %s. The decision is in its history: mlportal models history %s", v, args[0], r.JSON200.Approval.Status, args[0])
			return nil
		},
	}
	approve.Flags().StringVar(&comment, "comment", "", "why (recorded in the model's history)")
	approve.Flags().BoolVar(&reject, "reject", false, "reject the version instead")
	approve.Flags().BoolVar(&reset, "pending", false, "set the version back to pending")

	cmd.AddCommand(list, show, versions, lineage, history, approve)
	return cmd
}

func parseVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, usageError("VERSION must be a version number such as 3 (got %q)", s)
	}
	return v, nil
}

func latest(m api.Model) string {
	var newest int64
	for _, v := range m.LatestVersions {
		newest = max(newest, v.Version)
	}
	if newest == 0 {
		return "-"
	}
	return strconv.FormatInt(newest, 10)
}

func aliases(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(keys, ",")
}

func datasetRefs(ds *[]api.DatasetRef) string {
	if ds == nil || len(*ds) == 0 {
		return "-"
	}
	var out []string
	for _, d := range *ds {
		s := d.Name
		if d.Version != nil {
			s += fmt.Sprintf("@%d", *d.Version)
		}
		if d.Quality != nil {
			s += " (" + string(*d.Quality) + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func versionsTable(p printer, vs []api.ModelVersion) error {
	return p.print(vs, []string{"VERSION", "STAGE", "ALIASES", "APPROVAL", "FRAMEWORK", "RUN", "JOB", "DATASETS", "CREATED"}, func() [][]string {
		rows := make([][]string, len(vs))
		for i, v := range vs {
			al := "-"
			if len(v.Aliases) > 0 {
				al = strings.Join(v.Aliases, ",")
			}
			rows[i] = []string{strconv.FormatInt(v.Version, 10), v.Stage, al, string(v.Approval.Status), orDash(v.Framework), orDash(v.RunId),
				orDash(v.JobId), datasetRefs(v.Datasets), v.CreatedAt.Format("2006-01-02 15:04")}
		}
		return rows
	})
}

func printVersion(p printer, v api.ModelVersion) error {
	if p.format != "table" {
		return p.print(v, nil, nil)
	}
	metrics := "-"
	if v.Metrics != nil && len(*v.Metrics) > 0 {
		var ms []string
		for k, x := range *v.Metrics {
			ms = append(ms, fmt.Sprintf("%s=%g", k, x))
		}
		sort.Strings(ms)
		metrics = strings.Join(ms, " ")
	}
	params := "-"
	if v.Params != nil && len(*v.Params) > 0 {
		var ps []string
		for k, x := range *v.Params {
			ps = append(ps, k+"="+x)
		}
		sort.Strings(ps)
		params = strings.Join(ps, " ")
	}
	sig := "-"
	if v.Signature != nil {
		sig = fmt.Sprintf("%s -> %s", columns(v.Signature.Inputs), columns(v.Signature.Outputs))
	}
	if err := p.print(v, []string{"FIELD", "VALUE"}, func() [][]string {
		return [][]string{{"model", v.Model}, {"version", strconv.FormatInt(v.Version, 10)}, {"stage", v.Stage},
			{"approval", string(v.Approval.Status) + approvalBy(v.Approval)}, {"framework", orDash(v.Framework)}, {"run", orDash(v.RunId)},
			{"job", orDash(v.JobId)}, {"artifacts", orDash(v.ArtifactUri)}, {"digest", orDash(v.Digest)}, {"signature", sig},
			{"metrics", metrics}, {"params", params}, {"code", orDash(v.CodeRepository)}, {"commit", orDash(v.Commit)},
			{"image", orDash(v.ImageDigest)}, {"datasets", datasetRefs(v.Datasets)}, {"created", v.CreatedAt.Format("2006-01-02 15:04:05Z07:00") + " by " + v.CreatedBy}}
	}); err != nil {
		return err
	}
	if v.Approval.Status == api.ApprovalStatusPending {
		p.note("\nApprove it for production (team maintainers): mlportal models approve %s %d --comment \"why\"", v.Model, v.Version)
	}
	return nil
}

func approvalBy(a api.Approval) string {
	if a.By == nil {
		return ""
	}
	s := " by " + *a.By
	if a.Comment != nil && *a.Comment != "" {
		s += ": " + *a.Comment
	}
	return s
}

func columns(cs *[]api.ColumnSpec) string {
	if cs == nil {
		return "()"
	}
	var out []string
	for _, c := range *cs {
		s := c.Type
		if c.Name != nil && *c.Name != "" {
			s = *c.Name + ":" + s
		}
		if c.Shape != nil {
			s += fmt.Sprint(*c.Shape)
		}
		out = append(out, s)
	}
	return "(" + strings.Join(out, ", ") + ")"
}
