package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
)

func newTemplatesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "templates", Short: "Lifecycle templates: training, batch inference, real-time serving"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List lifecycle templates and their versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.ListLifecycleTemplatesWithResponse(cmd.Context(), &api.ListLifecycleTemplatesParams{})
			if err := c.result(r, err); err != nil {
				return err
			}
			items := r.JSON200.Items
			return p.print(items, []string{"NAME", "VERSION", "PATTERN", "GPU", "TIMEOUT", "TITLE"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, t := range items {
					rows[i] = []string{t.Name, t.Version, string(t.Pattern), fmt.Sprintf("%d %s", t.Job.Gpu, deref(t.Job.GpuType)), t.Job.Timeout, t.Title}
				}
				return rows
			})
		},
	}
	var version string
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a lifecycle template (the latest release unless --version)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.GetLifecycleTemplateWithResponse(cmd.Context(), args[0], &api.GetLifecycleTemplateParams{Version: optional(version)})
			if err := c.result(r, err); err != nil {
				return err
			}
			t := r.JSON200
			if p.format != "table" {
				return p.print(t, nil, nil)
			}
			fmt.Fprintf(g.stdout, "%s %s (%s): %s\nimage:   %s\ncommand: %s\nneeds:   cpu %s, memory %s, %d GPU %s, timeout %s, retries %d, preemptible %t\n",
				t.Name, t.Version, t.Pattern, t.Title, t.Job.Image, strings.Join(t.Job.Command, " "), t.Job.Cpu, t.Job.Memory,
				t.Job.Gpu, deref(t.Job.GpuType), t.Job.Timeout, t.Job.Retries, t.Job.Preemptible)
			if t.Schedule != nil {
				fmt.Fprintf(g.stdout, "schedule: %s (UTC)\n", *t.Schedule)
			}
			return p.print(t, []string{"STAGE", "RUNS", "REQUIRED"}, func() [][]string {
				rows := make([][]string, len(t.Stages))
				for i, s := range t.Stages {
					rows[i] = []string{s.Name, s.Run, fmt.Sprint(s.Required)}
				}
				return rows
			})
		},
	}
	show.Flags().StringVar(&version, "version", "", "a version (default: the latest release)")
	cmd.AddCommand(list, show)
	return cmd
}
