package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit trail (platform admins)"}
	var actor, action, target, outcome, since string
	var limit int
	list := &cobra.Command{
		Use:     "list",
		Short:   "List audit events, newest first",
		Example: "  mlportal audit list --target 'teams/*' --since 24h\n  mlportal audit list --actor user:default/alice --outcome denied",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			params := &api.ListAuditEventsParams{Actor: optional(actor), Action: optional(action), Target: optional(target), Limit: &limit}
			if outcome != "" {
				o := api.AuditOutcome(outcome)
				params.Outcome = &o
			}
			if since != "" {
				d, err := time.ParseDuration(since)
				if err != nil {
					return usageError("--since %q: use a duration such as 24h", since)
				}
				t := time.Now().Add(-d)
				params.Since = &t
			}
			r, err := c.api.ListAuditEventsWithResponse(cmd.Context(), params)
			if err := c.result(r, err); err != nil {
				return err
			}
			items := r.JSON200.Items
			return p.print(r.JSON200, []string{"TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "STATUS", "REQUEST ID"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, e := range items {
					rows[i] = []string{e.Time.Format(time.RFC3339), e.Actor, e.Action, e.Target, string(e.Outcome), fmt.Sprint(e.Status), e.RequestId}
				}
				return rows
			})
		},
	}
	f := list.Flags()
	f.StringVar(&actor, "actor", "", "who, e.g. user:default/alice")
	f.StringVar(&action, "action", "", "what, e.g. team.create")
	f.StringVar(&target, "target", "", "on what, e.g. teams/ml-research or teams/*")
	f.StringVar(&outcome, "outcome", "", "success, denied, invalid or failed")
	f.StringVar(&since, "since", "", "only events newer than this duration, e.g. 24h")
	f.IntVar(&limit, "limit", 50, "how many events")
	cmd.AddCommand(list)
	return cmd
}
