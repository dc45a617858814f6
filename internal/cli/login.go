package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/version"
)

func newLoginCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Check a token against a server and save both for later commands",
		Long: `Check a token against a server and save both in the CLI's config file
(<user config dir>/mlportal/config.yaml, or $MLPORTAL_CLI_CONFIG).

Get a token from the portal, from a teammate's ` + "`mlportal token create`" + `, or, on a
local server, the admin token ` + "`make run`" + ` printed. Pass --token - to read it from stdin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			server := firstNonEmpty(g.server, os.Getenv("MLPORTAL_URL"))
			tok := firstNonEmpty(g.token, os.Getenv("MLPORTAL_TOKEN"))
			if server == "" {
				return usageError("--server is required (the mlportal URL, e.g. http://localhost:8080)")
			}
			if tok == "-" || tok == "" {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return usageError("--token is required (or pass --token - and the token on stdin)")
				}
				tok = strings.TrimSpace(line)
			}
			c, err := newConn(server, tok)
			if err != nil {
				return err
			}
			r, err := c.api.WhoAmIWithResponse(cmd.Context())
			if err := c.result(r, err); err != nil {
				return err
			}
			path, err := saveClientConfig(clientConfig{Server: c.server, Token: tok})
			if err != nil {
				return fmt.Errorf("save the login: %w", err)
			}
			p, err := g.printer()
			if err != nil {
				return err
			}
			p.note("Logged in to %s as %s (%s). Saved in %s.", c.server, r.JSON200.Subject, r.JSON200.Kind, path)
			p.note("Next: mlportal whoami, mlportal teams list")
			return nil
		},
	}
	return cmd
}

func newLogoutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the saved token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadClientConfig()
			if err != nil {
				return err
			}
			c.Token = ""
			path, err := saveClientConfig(c)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Logged out: the token was removed from %s.\n", path)
			return nil
		},
	}
}

func newWhoamiCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who the server thinks you are and what you may do",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			p, err := g.printer()
			if err != nil {
				return err
			}
			r, err := c.api.WhoAmIWithResponse(cmd.Context())
			if err := c.result(r, err); err != nil {
				return err
			}
			id := r.JSON200
			if p.format != "table" {
				return p.print(id, nil, nil)
			}
			fmt.Fprintf(g.stdout, "subject: %s\nkind:    %s\nadmin:   %t\n", id.Subject, id.Kind, id.Admin)
			if len(id.Groups) > 0 {
				fmt.Fprintf(g.stdout, "groups:  %s\n", strings.Join(id.Groups, ", "))
			}
			return p.print(id, []string{"TEAM", "ROLE", "VERBS"}, func() [][]string {
				var rows [][]string
				for _, gr := range id.Grants {
					role := "-"
					if gr.Role != nil {
						role = string(*gr.Role)
					}
					rows = append(rows, []string{gr.Team, role, joinVerbs(gr.Verbs)})
				}
				return rows
			})
		},
	}
}

func joinVerbs(vs []api.Verb) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the CLI's version, and the server's when one is reachable",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(g.stdout, "client: %s (commit %s, %s)\n", version.Version, version.Commit, version.GoVersion())
			c, err := g.client()
			if err != nil {
				return nil
			}
			r, err := c.api.GetVersionWithResponse(cmd.Context())
			if err == nil && r.JSON200 != nil {
				fmt.Fprintf(g.stdout, "server: %s (commit %s, %s) at %s\n", r.JSON200.Version, r.JSON200.Commit, r.JSON200.GoVersion, c.server)
			}
			return nil
		},
	}
}
