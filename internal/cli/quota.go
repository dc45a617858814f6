package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
)

// teamFlag resolves --team, then $MLPORTAL_TEAM.
func teamFlag(team string) (string, error) {
	if team = firstNonEmpty(team, os.Getenv("MLPORTAL_TEAM")); team == "" {
		return "", usageError("--team is required (or set MLPORTAL_TEAM): `mlportal teams list` shows the teams")
	}
	return team, nil
}

// newQuotaCmd is `mlportal quota`.
func newQuotaCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "quota", Short: "A team's GPU quota and use; ask for more, and approve or deny requests (platform admins)"}
	var team string
	show := &cobra.Command{
		Use:     "show",
		Short:   "Show a team's GPU quota per type, what its jobs use now and which jobs, and its projects' namespace quotas",
		Example: "  mlportal quota show --team fraud",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team, err = teamFlag(team); err != nil {
				return err
			}
			r, err := c.api.GetTeamQuotaWithResponse(cmd.Context(), team)
			if err := c.result(r, err); err != nil {
				return err
			}
			q := r.JSON200
			if p.format != "table" {
				return p.print(q, nil, nil)
			}
			return printQuota(g, p, q)
		},
	}
	show.Flags().StringVar(&team, "team", "", "the team (default $MLPORTAL_TEAM)")
	cmd.AddCommand(show, newQuotaRequestCmd(g), newQuotaRequestsCmd(g))
	return cmd
}

func printQuota(g *globals, p printer, q *api.TeamQuota) error {
	need := fmt.Sprintf("Need more? mlportal quota request --team %s --gpu-type TYPE --gpus N --justification \"why\"", q.Team)
	if len(q.GpuTypes) == 0 {
		p.note("Team %s has no GPU quota and no job holds GPUs; its projects may hold %d GPUs in all (the default).\n%s", q.Team, q.Ceiling, need)
		return nil
	}
	if err := p.print(q, []string{"GPU TYPE", "NOMINAL", "BORROWING LIMIT", "IN USE", "BORROWED", "AVAILABLE"}, func() [][]string {
		rows := make([][]string, len(q.GpuTypes))
		for i, t := range q.GpuTypes {
			rows[i] = []string{t.GpuType, fmt.Sprint(t.Nominal), fmt.Sprint(t.BorrowingLimit), fmt.Sprint(t.InUse), fmt.Sprint(t.Borrowed), fmt.Sprint(t.Available)}
		}
		return rows
	}); err != nil {
		return err
	}
	var rows [][]string
	for _, t := range q.GpuTypes {
		for _, j := range t.Jobs {
			rows = append(rows, []string{j.Id, j.Name, j.Project, fmt.Sprintf("%d × %s", j.Gpus, t.GpuType), string(j.State)})
		}
	}
	if len(rows) > 0 {
		fmt.Fprintln(g.stdout)
		if err := p.print(nil, []string{"JOB", "NAME", "PROJECT", "GPUS", "STATE"}, func() [][]string { return rows }); err != nil {
			return err
		}
	}
	if len(q.Projects) > 0 {
		fmt.Fprintln(g.stdout)
		if err := p.print(nil, []string{"PROJECT", "NAMESPACE", "NAMESPACE GPUS"}, func() [][]string {
			rows := make([][]string, len(q.Projects))
			for i, pr := range q.Projects {
				rows[i] = []string{pr.Name, orDash(pr.Namespace), fmt.Sprint(pr.Gpus)}
			}
			return rows
		}); err != nil {
			return err
		}
	}
	p.note("\nThe team's projects may hold %d GPUs in all (nominal + borrowing limit).\n%s", q.Ceiling, need)
	return nil
}

// newQuotaRequestCmd is `mlportal quota request`.
func newQuotaRequestCmd(g *globals) *cobra.Command {
	var team, gpuType, project, duration, justification string
	var gpus, borrowing, projectGPUs int
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Ask for GPU quota for a team, optionally for a project's namespace and for a limited time",
		Long: `Ask a platform admin for GPU quota. --gpus is the team's nominal GPUs of the type once approved
(not an increment). With --project and --project-gpus the project's namespace quota changes
together with the team's. With --for the grant is temporary and reverts when it ends.`,
		Example: `  mlportal quota request --team fraud --gpu-type a100 --gpus 16 --justification "retraining the churn model on a year of data"
  mlportal quota request --team fraud --gpu-type a100 --gpus 16 --project churn --project-gpus 8 --for 720h --justification "..."`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team, err = teamFlag(team); err != nil {
				return err
			}
			f := cmd.Flags()
			if gpuType == "" || !f.Changed("gpus") || justification == "" {
				return usageError("--gpu-type, --gpus and --justification are required")
			}
			in := api.QuotaRequestCreate{GpuType: gpuType, Gpus: gpus, Justification: justification, Project: optional(project), Duration: optional(duration)}
			if f.Changed("borrowing-limit") {
				in.BorrowingLimit = &borrowing
			}
			if f.Changed("project-gpus") {
				in.ProjectGpus = &projectGPUs
			}
			r, err := c.api.CreateQuotaRequestWithResponse(cmd.Context(), team, &api.CreateQuotaRequestParams{}, in)
			if err := c.result(r, err); err != nil {
				return err
			}
			q := r.JSON201
			if p.format != "table" {
				return p.print(q, nil, nil)
			}
			p.note("Requested %s (request %s); it is pending.\nA platform admin approves it with: mlportal quota requests approve %s --team %s\nFollow it with: mlportal quota requests show %s --team %s",
				describeRequest(q), q.Id, q.Id, team, q.Id, team)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&team, "team", "", "the team (default $MLPORTAL_TEAM)")
	f.StringVar(&gpuType, "gpu-type", "", "the GPU type, e.g. a100")
	f.IntVar(&gpus, "gpus", 0, "the team's nominal GPUs of that type once approved")
	f.IntVar(&borrowing, "borrowing-limit", 0, "the borrowing limit to set (default: keep the current one)")
	f.StringVar(&project, "project", "", "a project whose namespace GPU quota to change too")
	f.IntVar(&projectGPUs, "project-gpus", 0, "the project namespace's GPU quota to set (with --project)")
	f.StringVar(&duration, "for", "", "make the grant temporary, e.g. 720h (default: permanent)")
	f.StringVar(&justification, "justification", "", "why the team needs the GPUs (at least 20 characters; the approver decides on it)")
	return cmd
}

func describeRequest(q *api.QuotaRequest) string {
	s := fmt.Sprintf("%d %s GPUs nominal for team %s", q.Gpus, q.GpuType, q.Team)
	if q.BorrowingLimit != nil {
		s += fmt.Sprintf(" (borrowing limit %d)", *q.BorrowingLimit)
	}
	if q.Project != nil && q.ProjectGpus != nil {
		s += fmt.Sprintf(" and %d GPUs for project %s's namespace", *q.ProjectGpus, *q.Project)
	}
	if q.Duration != nil {
		s += " for " + *q.Duration
	}
	return s
}

// newQuotaRequestsCmd is `mlportal quota requests`.
func newQuotaRequestsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "requests", Short: "List, show, approve and deny quota requests"}
	var team, status, comment string
	list := &cobra.Command{
		Use:   "list",
		Short: "List a team's quota requests (oldest first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team, err = teamFlag(team); err != nil {
				return err
			}
			var st *api.QuotaRequestStatus
			if status != "" {
				st = ptr(api.QuotaRequestStatus(status))
			}
			items, err := allPages(func(token *string) ([]api.QuotaRequest, *string, error) {
				r, err := c.api.ListQuotaRequestsWithResponse(cmd.Context(), team, &api.ListQuotaRequestsParams{Status: st, PageToken: token, Limit: ptr(500)})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			return p.print(items, []string{"ID", "STATUS", "GPUS", "PROJECT", "FOR", "APPLIED", "REQUESTED BY", "REQUESTED"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, q := range items {
					prj := "-"
					if q.Project != nil && q.ProjectGpus != nil {
						prj = fmt.Sprintf("%s (%d)", *q.Project, *q.ProjectGpus)
					}
					applied := "-"
					if q.Status == api.QuotaRequestStatusApproved || q.Status == api.QuotaRequestStatusExpired {
						applied = fmt.Sprint(q.Applied)
					}
					rows[i] = []string{q.Id, string(q.Status), fmt.Sprintf("%d × %s", q.Gpus, q.GpuType), prj, orDash(q.Duration),
						applied, q.RequestedBy, q.RequestedAt.Format(time.RFC3339)}
				}
				return rows
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only requests in this status: pending, approved, denied or expired")
	show := &cobra.Command{
		Use:   "show REQUEST_ID",
		Short: "Show a quota request, its decision and whether it is applied",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team, err = teamFlag(team); err != nil {
				return err
			}
			r, err := c.api.GetQuotaRequestWithResponse(cmd.Context(), team, args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON200, nil, nil)
			}
			printQuotaRequest(g, r.JSON200)
			return nil
		},
	}
	approve := &cobra.Command{
		Use:   "approve REQUEST_ID",
		Short: "Approve a quota request and apply it to the team and the project's namespace (platform admins)",
		Long: `Approve a pending request: the team's quota and, for a project, its namespace's ResourceQuota
change together. Approving an approved request again is safe: it retries whatever is not applied.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd.Context(), g, team, args[0], comment, true)
		},
	}
	approve.Flags().StringVar(&comment, "comment", "", "a note for the team")
	deny := &cobra.Command{
		Use:   "deny REQUEST_ID",
		Short: "Deny a quota request, saying why (platform admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if comment == "" {
				return usageError("--reason is required: say why, so that the team knows what to change")
			}
			return decide(cmd.Context(), g, team, args[0], comment, false)
		},
	}
	deny.Flags().StringVar(&comment, "reason", "", "why the request is denied")
	for _, c := range []*cobra.Command{list, show, approve, deny} {
		c.Flags().StringVar(&team, "team", "", "the team (default $MLPORTAL_TEAM)")
	}
	cmd.AddCommand(list, show, approve, deny)
	return cmd
}

// decide approves or denies a request and says what happened.
func decide(ctx context.Context, g *globals, team, id, comment string, approve bool) error {
	c, p, err := g.clientAndPrinter()
	if err != nil {
		return err
	}
	if team, err = teamFlag(team); err != nil {
		return err
	}
	body := api.QuotaDecision{Comment: optional(comment)}
	var q *api.QuotaRequest
	if approve {
		r, err := c.api.ApproveQuotaRequestWithResponse(ctx, team, id, body)
		if err := c.result(r, err); err != nil {
			return err
		}
		q = r.JSON200
	} else {
		r, err := c.api.DenyQuotaRequestWithResponse(ctx, team, id, body)
		if err := c.result(r, err); err != nil {
			return err
		}
		q = r.JSON200
	}
	if p.format != "table" {
		if err := p.print(q, nil, nil); err != nil {
			return err
		}
	}
	switch {
	case q.Status == api.QuotaRequestStatusDenied:
		p.note("Denied request %s (%s): %s", q.Id, describeRequest(q), deref(q.Comment))
	case !q.Applied:
		return &Error{Code: ExitUnavailable, Message: fmt.Sprintf("request %s is approved but not applied yet: %s", q.Id, deref(q.ApplyError)),
			Hint: "mlportal retries in the background; run the same command again to retry now"}
	default:
		p.note("Approved and applied request %s: %s.", q.Id, describeRequest(q))
		if q.ExpiresAt != nil {
			p.note("The grant is temporary: it reverts at %s.", q.ExpiresAt.Format(time.RFC3339))
		}
		p.note("See it in use with: mlportal quota show --team %s", team)
	}
	return nil
}

func printQuotaRequest(g *globals, q *api.QuotaRequest) {
	w := g.stdout
	fmt.Fprintf(w, "id:             %s\nrequest:        %s\njustification:  %s\nstatus:         %s\nrequested:      %s by %s\n",
		q.Id, describeRequest(q), q.Justification, q.Status, q.RequestedAt.Format(time.RFC3339), q.RequestedBy)
	if q.DecidedAt != nil {
		fmt.Fprintf(w, "decided:        %s by %s\ncomment:        %s\n", q.DecidedAt.Format(time.RFC3339), deref(q.DecidedBy), orDash(q.Comment))
	}
	if q.ExpiresAt != nil {
		fmt.Fprintf(w, "reverts at:     %s\n", q.ExpiresAt.Format(time.RFC3339))
	}
	if q.Status == api.QuotaRequestStatusApproved || q.Status == api.QuotaRequestStatusExpired {
		applied := "yes"
		if !q.Applied {
			applied = "not yet (attempt " + fmt.Sprint(q.Attempts) + "): " + deref(q.ApplyError)
		}
		fmt.Fprintf(w, "applied:        %s\n", applied)
	}
	if ch := q.Change; ch != nil {
		parts := []string{fmt.Sprintf("nominal %d → %d", ch.NominalBefore, ch.NominalAfter),
			fmt.Sprintf("borrowing limit %d → %d", ch.BorrowingLimitBefore, ch.BorrowingLimitAfter)}
		if ch.ProjectGpusBefore != nil && ch.ProjectGpusAfter != nil {
			parts = append(parts, fmt.Sprintf("project %s %d → %d GPUs", deref(q.Project), *ch.ProjectGpusBefore, *ch.ProjectGpusAfter))
		}
		fmt.Fprintf(w, "change:         %s\n", strings.Join(parts, ", "))
	}
}
