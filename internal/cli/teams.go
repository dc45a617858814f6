package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
)

func newTeamsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "teams", Aliases: []string{"team"}, Short: "Manage teams: members, roles, Backstage group, GPU quota, fair-share weight"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List teams",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			items, err := allPages(func(token *string) ([]api.Team, *string, error) {
				r, err := c.api.ListTeamsWithResponse(cmd.Context(), &api.ListTeamsParams{PageToken: token})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			return p.print(items, []string{"NAME", "DISPLAY NAME", "BACKSTAGE GROUP", "MEMBERS", "WEIGHT", "VERSION"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, t := range items {
					rows[i] = []string{t.Name, t.DisplayName, orDash(t.BackstageGroup), fmt.Sprint(len(t.Members)), formatWeight(t.FairShareWeight), fmt.Sprint(t.Version)}
				}
				return rows
			})
		},
	}
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a team",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.GetTeamWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			t := r.JSON200
			if p.format != "table" {
				return p.print(t, nil, nil)
			}
			fmt.Fprintf(g.stdout, "name:              %s\ndisplay name:      %s\nbackstage group:   %s\ncost center:       %s\nfair-share weight: %s\nversion:           %d\n",
				t.Name, t.DisplayName, orDash(t.BackstageGroup), orDash(t.CostCenter), formatWeight(t.FairShareWeight), t.Version)
			for _, q := range t.GpuQuota {
				fmt.Fprintf(g.stdout, "gpu quota:         %s nominal %d, may borrow %d\n", q.GpuType, q.Nominal, deref(q.BorrowingLimit))
			}
			return p.print(t, []string{"MEMBER", "ROLE"}, func() [][]string {
				rows := make([][]string, len(t.Members))
				for i, m := range t.Members {
					rows[i] = []string{m.Subject, string(m.Role)}
				}
				return rows
			})
		},
	}
	var display, group, cost, desc string
	var members, gpuQuota []string
	var weight float64
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a team (platform admins)",
		Example: `  mlportal teams create ml-research --display-name "ML Research" --group group:default/ml-research --member user:default/alice=maintainer
  mlportal teams create vision --gpu-quota a100=16:8 --gpu-quota h100=8 --weight 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			body := api.TeamCreate{Name: args[0], DisplayName: optional(display), BackstageGroup: optional(group),
				CostCenter: optional(cost), Description: optional(desc)}
			ms, err := parseMembers(members)
			if err != nil {
				return err
			}
			if len(ms) > 0 {
				body.Members = &ms
			}
			qs, err := parseGPUQuota(gpuQuota)
			if err != nil {
				return err
			}
			if len(qs) > 0 {
				body.GpuQuota = &qs
			}
			if cmd.Flags().Changed("weight") {
				body.FairShareWeight = &weight
			}
			r, err := c.api.CreateTeamWithResponse(cmd.Context(), &api.CreateTeamParams{}, body)
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON201, nil, nil)
			}
			p.note("Created team %s. Next: mlportal token create --name ci --team %s --verbs read,write", r.JSON201.Name, r.JSON201.Name)
			return nil
		},
	}
	create.Flags().StringVar(&display, "display-name", "", "human-readable name")
	create.Flags().StringVar(&group, "group", "", "owning Backstage group, e.g. group:default/ml-research")
	create.Flags().StringVar(&cost, "cost-center", "", "cost centre for cost reports")
	create.Flags().StringVar(&desc, "description", "", "what the team works on")
	create.Flags().StringArrayVar(&members, "member", nil, "member as REF=ROLE (user:default/alice=maintainer); repeatable")
	create.Flags().StringArrayVar(&gpuQuota, "gpu-quota", nil, "GPU quota as TYPE=NOMINAL[:BORROWING] (a100=16:8); repeatable")
	create.Flags().Float64Var(&weight, "weight", 1, weightUsage)

	var ifMatch string
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a team (platform admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.DeleteTeamWithResponse(cmd.Context(), args[0], &api.DeleteTeamParams{IfMatch: optional(ifMatch)})
			if err := c.result(r, err); err != nil {
				return err
			}
			p.note("Deleted team %s.", args[0])
			return nil
		},
	}
	del.Flags().StringVar(&ifMatch, "if-match", "", "only delete if the team's ETag is still this")
	cmd.AddCommand(list, get, create, newTeamsUpdateCmd(g), del)
	return cmd
}

const weightUsage = "fair-share weight among teams borrowing idle GPUs, 0.01-100 (3 gets about three times the borrowed GPUs of 1)"

// newTeamsUpdateCmd changes the fields named by flags and keeps the others:
// it reads the team, applies the flags and replaces the team if nobody
// changed it meanwhile (If-Match with the ETag it read).
func newTeamsUpdateCmd(g *globals) *cobra.Command {
	var display, group, cost, desc string
	var members, gpuQuota []string
	var weight float64
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a team's fields (team maintainers, platform admins); fields without a flag keep their value",
		Example: `  mlportal teams update vision --weight 3
  mlportal teams update vision --gpu-quota a100=16:8 --member user:default/alice=maintainer --member user:default/bob=developer`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !(f.Changed("display-name") || f.Changed("group") || f.Changed("cost-center") || f.Changed("description") ||
				f.Changed("member") || f.Changed("gpu-quota") || f.Changed("weight")) {
				return usageError("nothing to change: give at least one of --display-name, --group, --cost-center, --description, --member, --gpu-quota, --weight")
			}
			ms, err := parseMembers(members)
			if err != nil {
				return err
			}
			qs, err := parseGPUQuota(gpuQuota)
			if err != nil {
				return err
			}
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			cur, err := c.api.GetTeamWithResponse(cmd.Context(), args[0])
			if err := c.result(cur, err); err != nil {
				return err
			}
			t := cur.JSON200
			body := api.TeamUpdate{DisplayName: &t.DisplayName, Description: t.Description, BackstageGroup: t.BackstageGroup,
				CostCenter: t.CostCenter, Members: &t.Members, GpuQuota: &t.GpuQuota, FairShareWeight: &t.FairShareWeight}
			for flag, set := range map[string]func(){
				"display-name": func() { body.DisplayName = &display },
				"group":        func() { body.BackstageGroup = optional(group) },
				"cost-center":  func() { body.CostCenter = optional(cost) },
				"description":  func() { body.Description = optional(desc) },
				"member":       func() { body.Members = &ms },
				"gpu-quota":    func() { body.GpuQuota = &qs },
				"weight":       func() { body.FairShareWeight = &weight },
			} {
				if f.Changed(flag) {
					set()
				}
			}
			etag := cur.HTTPResponse.Header.Get("ETag")
			r, err := c.api.UpdateTeamWithResponse(cmd.Context(), args[0], &api.UpdateTeamParams{IfMatch: optional(etag)}, body)
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON200, nil, nil)
			}
			p.note("Updated team %s (version %d, fair-share weight %s).", r.JSON200.Name, r.JSON200.Version, formatWeight(r.JSON200.FairShareWeight))
			return nil
		},
	}
	cmd.Flags().StringVar(&display, "display-name", "", "human-readable name")
	cmd.Flags().StringVar(&group, "group", "", "owning Backstage group (empty to clear)")
	cmd.Flags().StringVar(&cost, "cost-center", "", "cost centre for cost reports (empty to clear)")
	cmd.Flags().StringVar(&desc, "description", "", "what the team works on (empty to clear)")
	cmd.Flags().StringArrayVar(&members, "member", nil, "the members, replacing them all, as REF=ROLE; repeatable")
	cmd.Flags().StringArrayVar(&gpuQuota, "gpu-quota", nil, "the GPU quota, replacing it all, as TYPE=NOMINAL[:BORROWING]; repeatable")
	cmd.Flags().Float64Var(&weight, "weight", 1, weightUsage)
	return cmd
}

// formatWeight prints a weight without trailing zeros (3, 0.5, 1.25).
func formatWeight(w float64) string { return strconv.FormatFloat(w, 'g', -1, 64) }

func parseMembers(specs []string) ([]api.Member, error) {
	var out []api.Member
	for _, s := range specs {
		ref, role, ok := strings.Cut(s, "=")
		if !ok {
			return nil, usageError("--member %q: use REF=ROLE, e.g. user:default/alice=developer", s)
		}
		out = append(out, api.Member{Subject: ref, Role: api.Role(role)})
	}
	return out, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// parseGPUQuota reads TYPE=NOMINAL[:BORROWING] entries.
func parseGPUQuota(specs []string) ([]api.GPUQuota, error) {
	var out []api.GPUQuota
	for _, s := range specs {
		typ, counts, ok := strings.Cut(s, "=")
		nom, borrow, hasBorrow := strings.Cut(counts, ":")
		n, err := strconv.Atoi(nom)
		b := 0
		if hasBorrow && err == nil {
			b, err = strconv.Atoi(borrow)
		}
		if !ok || typ == "" || err != nil {
			return nil, usageError("--gpu-quota %q: use TYPE=NOMINAL[:BORROWING], e.g. a100=16:8", s)
		}
		q := api.GPUQuota{GpuType: typ, Nominal: n}
		if hasBorrow {
			q.BorrowingLimit = &b
		}
		out = append(out, q)
	}
	return out, nil
}
