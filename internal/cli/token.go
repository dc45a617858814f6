package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
)

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create, list and revoke API tokens for the CLI and CI"}
	var name, team, verbs, ttl string
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue a token scoped to a team and verbs (the secret is shown once)",
		Example: `  mlportal token create --name laptop --team ml-research --verbs read,write
  mlportal token create --name ci-churn --team ml-research --verbs read,write --ttl 2160h -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError("--name is required: say what the token is for (laptop, ci-churn-model)")
			}
			body := api.TokenCreate{Name: name}
			for _, v := range strings.Split(verbs, ",") {
				if v = strings.TrimSpace(v); v != "" {
					body.Verbs = append(body.Verbs, api.Verb(v))
				}
			}
			if team != "" {
				body.Team = &team
			}
			if ttl != "" {
				body.Ttl = &ttl
			}
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.CreateTokenWithResponse(cmd.Context(), &api.CreateTokenParams{}, body)
			if err := c.result(r, err); err != nil {
				return err
			}
			t := r.JSON201
			if p.format != "table" {
				return p.print(t, nil, nil)
			}
			fmt.Fprintf(g.stdout, "Created token %s (%q) for %s, verbs %s, expires %s.\n\n%s\n\n", t.Id, t.Name, orDash(t.Team),
				joinVerbs(t.Verbs), t.ExpiresAt.Format(time.RFC3339), t.Token)
			fmt.Fprintf(g.stdout, "Copy it now: it is not shown again. Use it with\n  mlportal login --server %s --token <token>\nor export MLPORTAL_TOKEN=<token>. Revoke it with: mlportal token revoke %s\n", c.server, t.Id)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the token is for")
	create.Flags().StringVar(&team, "team", "", "team the token acts for (required unless you are a platform admin)")
	create.Flags().StringVar(&verbs, "verbs", "read", "comma-separated verbs: read, write, manage, admin")
	create.Flags().StringVar(&ttl, "ttl", "", "lifetime, e.g. 720h (default from server configuration)")

	var all bool
	var subject string
	list := &cobra.Command{
		Use:   "list",
		Short: "List your tokens (platform admins: --subject to see someone else's)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			params := &api.ListTokensParams{IncludeRevoked: &all}
			if subject != "" {
				params.Subject = &subject
			}
			items, err := allPages(func(token *string) ([]api.Token, *string, error) {
				params.PageToken = token
				r, err := c.api.ListTokensWithResponse(cmd.Context(), params)
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			return p.print(items, []string{"ID", "NAME", "SUBJECT", "TEAM", "VERBS", "EXPIRES", "REVOKED"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, t := range items {
					revoked := "-"
					if t.RevokedAt != nil {
						revoked = t.RevokedAt.Format(time.RFC3339)
					}
					rows[i] = []string{t.Id, t.Name, t.Subject, orDash(t.Team), joinVerbs(t.Verbs), t.ExpiresAt.Format(time.RFC3339), revoked}
				}
				return rows
			})
		},
	}
	list.Flags().BoolVar(&all, "include-revoked", false, "also list revoked tokens")
	list.Flags().StringVar(&subject, "subject", "", "whose tokens (platform admins)")

	revoke := &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: "Revoke a token; requests with it are refused from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.RevokeTokenWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			p.note("Revoked token %s.", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func (g *globals) clientAndPrinter() (*conn, printer, error) {
	p, err := g.printer()
	if err != nil {
		return nil, p, err
	}
	c, err := g.client()
	return c, p, err
}
