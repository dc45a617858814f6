package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
)

// newCostsCmd is `mlportal costs`.
func newCostsCmd(g *globals) *cobra.Command {
	var team, project, month, from, to, by string
	cmd := &cobra.Command{
		Use:   "costs",
		Short: "GPU-hours and cost of jobs by team, project, month or GPU type",
		Long: `Sum the GPU-hours and cost of jobs: each attempt's GPU-hours times the hourly price of its GPU
type in the pool of its nodes (mlportal.costs). A job is charged to the month it ended; running
jobs count up to now, in the current month.`,
		Example: `  mlportal costs --by team
  mlportal costs --team fraud --month 2026-11 --by project
  mlportal costs --team fraud --project churn --by gpu-type`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			params := api.GetCostsParams{Team: optional(team), Project: optional(project)}
			groups := map[string]api.GetCostsParamsGroupBy{"team": "team", "project": "project", "month": "month", "gpu-type": "gpuType"}
			gb, ok := groups[by]
			if !ok {
				return usageError("--by must be team, project, month or gpu-type (got %q)", by)
			}
			params.GroupBy = &gb
			if month != "" {
				if from != "" || to != "" {
					return usageError("give either --month or --from/--to")
				}
				m, err := time.Parse("2006-01", month)
				if err != nil {
					return usageError("--month must be YYYY-MM, e.g. 2026-11 (got %q)", month)
				}
				end := m.AddDate(0, 1, 0)
				params.From, params.To = &m, &end
			}
			for _, d := range []struct {
				flag, v string
				out     **time.Time
			}{{"--from", from, &params.From}, {"--to", to, &params.To}} {
				if d.v == "" {
					continue
				}
				t, err := parseDay(d.v)
				if err != nil {
					return usageError("%s must be a date (2026-11-01) or an RFC 3339 time (got %q)", d.flag, d.v)
				}
				*d.out = &t
			}
			r, err := c.api.GetCostsWithResponse(cmd.Context(), &params)
			if err := c.result(r, err); err != nil {
				return err
			}
			rep := r.JSON200
			if p.format != "table" {
				return p.print(rep, nil, nil)
			}
			key := map[api.CostReportGroupBy]string{"team": "TEAM", "project": "TEAM/PROJECT", "month": "MONTH", "gpuType": "GPU TYPE"}[rep.GroupBy]
			if len(rep.Items) == 0 {
				p.note("No job used GPU time for this selection.")
				return nil
			}
			if err := p.print(rep, []string{key, "JOBS", "GPU-HOURS", "COST (" + rep.Currency + ")"}, func() [][]string {
				rows := make([][]string, 0, len(rep.Items)+1)
				for _, l := range rep.Items {
					k := map[api.CostReportGroupBy]string{"team": deref(l.Team), "project": deref(l.Team) + "/" + deref(l.Project),
						"month": deref(l.Month), "gpuType": deref(l.GpuType)}[rep.GroupBy]
					rows = append(rows, costRow(k, l))
				}
				return append(rows, costRow("TOTAL", rep.Total))
			}); err != nil {
				return err
			}
			p.note("\nRunning jobs are counted up to %s. Budgets: mlportal budget show --team TEAM", rep.AsOf.Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&team, "team", "", "only this team's jobs")
	f.StringVar(&project, "project", "", "only this project's jobs (with --team)")
	f.StringVar(&month, "month", "", "only jobs charged in this month, YYYY-MM (UTC)")
	f.StringVar(&from, "from", "", "only jobs charged from this date or time on")
	f.StringVar(&to, "to", "", "only jobs charged before this date or time")
	f.StringVar(&by, "by", "team", "group by team, project, month or gpu-type")
	return cmd
}

func costRow(key string, l api.CostLine) []string {
	return []string{orDash(&key), fmt.Sprint(l.Jobs), fmt.Sprintf("%.2f", l.GpuHours), fmt.Sprintf("%.2f", l.Cost)}
}

// parseDay reads 2026-11-01 (UTC midnight) or an RFC 3339 time.
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// newBudgetCmd is `mlportal budget`.
func newBudgetCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "budget", Short: "A team's monthly budget: show it, or set it (platform admins)"}
	var team string
	show := &cobra.Command{
		Use:   "show",
		Short: "Show a team's budget and what it spent this month",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team, err = teamFlag(team); err != nil {
				return err
			}
			r, err := c.api.GetTeamBudgetWithResponse(cmd.Context(), team)
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON200, nil, nil)
			}
			printBudget(g, p, r.JSON200)
			return nil
		},
	}
	var amount, warning float64
	var hard bool
	set := &cobra.Command{
		Use:   "set",
		Short: "Set a team's monthly budget (platform admins)",
		Long: `Set a team's monthly budget. From the warning threshold on, the team's submitted jobs carry a
budget warning in their reason; with --hard-limit, its new jobs are refused once the month's
spending reaches the amount.`,
		Example: "  mlportal budget set --team fraud --amount 5000 --hard-limit\n  mlportal budget set --team fraud --amount 8000 --warning-threshold 0.9",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team, err = teamFlag(team); err != nil {
				return err
			}
			if !cmd.Flags().Changed("amount") {
				return usageError("--amount is required: the team's budget per calendar month")
			}
			in := api.BudgetSet{MonthlyAmount: amount, HardLimit: &hard}
			if cmd.Flags().Changed("warning-threshold") {
				in.WarningThreshold = &warning
			}
			r, err := c.api.SetTeamBudgetWithResponse(cmd.Context(), team, &api.SetTeamBudgetParams{}, in)
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON200, nil, nil)
			}
			p.note("Set team %s's budget.", team)
			printBudget(g, p, r.JSON200)
			return nil
		},
	}
	set.Flags().Float64Var(&amount, "amount", 0, "the budget per calendar month (UTC), in the configured currency")
	set.Flags().Float64Var(&warning, "warning-threshold", 0.8, "the fraction of the amount from which jobs carry a warning")
	set.Flags().BoolVar(&hard, "hard-limit", false, "refuse the team's new jobs once the month's spending reaches the amount")
	for _, c := range []*cobra.Command{show, set} {
		c.Flags().StringVar(&team, "team", "", "the team (default $MLPORTAL_TEAM)")
	}
	cmd.AddCommand(show, set)
	return cmd
}

func printBudget(g *globals, p printer, b *api.Budget) {
	if b.State == api.BudgetStateNone {
		p.note("Team %s has no budget; it spent %.2f %s in %s so far.\nA platform admin sets one with: mlportal budget set --team %s --amount N [--hard-limit]",
			b.Team, b.Spent, b.Currency, b.Month, b.Team)
		return
	}
	limit := "no (over the amount, jobs only warn)"
	if deref(b.HardLimit) {
		limit = "yes (over the amount, new jobs are refused)"
	}
	fmt.Fprintf(g.stdout, "team:        %s\nmonth:       %s\nbudget:      %.2f %s\nspent:       %.2f %s (%.0f%%)\nstate:       %s\nwarning at:  %.0f%%\nhard limit:  %s\n",
		b.Team, b.Month, deref(b.MonthlyAmount), b.Currency, b.Spent, b.Currency, 100*deref(b.Fraction), b.State, 100*deref(b.WarningThreshold), limit)
	switch b.State {
	case api.BudgetStateExceeded:
		p.note("The team is over its budget; a platform admin can raise it: mlportal budget set --team %s --amount N", b.Team)
	case api.BudgetStateWarning:
		p.note("The team is past its warning threshold. See where it goes: mlportal costs --team %s --by project", b.Team)
	}
}
