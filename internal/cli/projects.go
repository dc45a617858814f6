package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/version"
)

func newProjectCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "project", Aliases: []string{"projects"},
		Short: "Create ML projects: repository, CI pipeline, namespace and lifecycle template in one step"}
	var team, tpl, tplVersion, desc, scm string
	var wait bool
	var quotaGPUs int
	var quotaCPU, quotaMemory string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an ML project and bootstrap it",
		Example: `  mlportal project create churn-model --team fraud --wait
  mlportal project create nightly-scores --team fraud --template batch-inference --description "Scores every account nightly"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			if team == "" {
				return usageError("--team is required: the team that owns the project (`mlportal teams list`)")
			}
			body := api.ProjectCreate{Team: team, Name: args[0], Template: tpl, TemplateVersion: optional(tplVersion), Description: optional(desc)}
			if scm != "" {
				s := api.ProjectCreateScm(scm)
				body.Scm = &s
			}
			if cmd.Flags().Changed("gpus") || quotaCPU != "" || quotaMemory != "" {
				q := api.ProjectQuota{Cpu: optional(quotaCPU), Memory: optional(quotaMemory)}
				if cmd.Flags().Changed("gpus") {
					q.Gpus = &quotaGPUs
				}
				body.Quota = &q
			}
			r, err := c.api.CreateProjectWithResponse(cmd.Context(), &api.CreateProjectParams{}, body)
			if err := c.result(r, err); err != nil {
				return err
			}
			prj := r.JSON201
			verb := "Creating"
			if prj == nil {
				prj, verb = r.JSON200, "Already created"
			}
			if !wait {
				if p.format != "table" {
					return p.print(prj, nil, nil)
				}
				p.note("%s project %s in team %s (%s).\nFollow it with: mlportal project show %s", verb, prj.Name, prj.Team, prj.Id, prj.Id)
				return nil
			}
			p.note("%s project %s in team %s (%s)…", verb, prj.Name, prj.Team, prj.Id)
			final, err := c.watch(cmd.Context(), prj.Id, func(st api.ProjectStep) {
				if st.Status == "pending" {
					return
				}
				p.note("  %-10s  %-8s  %s", st.Name, st.Status, firstNonEmpty(deref(st.Error), deref(st.Detail)))
			})
			if err != nil {
				return err
			}
			if p.format != "table" {
				if err := p.print(final, nil, nil); err != nil {
					return err
				}
			}
			return finished(p, final)
		},
	}
	create.Flags().StringVar(&team, "team", "", "owning team (required)")
	create.Flags().StringVar(&tpl, "template", "training", "lifecycle template: training, batch-inference or realtime-serving (`mlportal templates list`)")
	create.Flags().StringVar(&tplVersion, "template-version", "", "lifecycle template version (default: the latest release)")
	create.Flags().StringVar(&desc, "description", "", "one line saying what the project predicts")
	create.Flags().BoolVar(&wait, "wait", false, "follow the bootstrap step by step until it finishes")
	create.Flags().IntVar(&quotaGPUs, "gpus", 0, "GPU quota of the project's namespace (default: mlportal.projects.defaultQuota; must fit the team's ceiling)")
	create.Flags().StringVar(&quotaCPU, "cpu", "", "CPU quota, e.g. 32")
	create.Flags().StringVar(&quotaMemory, "memory", "", "memory quota, e.g. 128Gi")
	create.Flags().StringVar(&scm, "scm", "", "repository host: local or github (default: the server's mlportal.scm.default)")

	var listTeam string
	list := &cobra.Command{
		Use:   "list",
		Short: "List projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			items, err := allPages(func(token *string) ([]api.Project, *string, error) {
				r, err := c.api.ListProjectsWithResponse(cmd.Context(), &api.ListProjectsParams{Team: optional(listTeam), PageToken: token})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			return p.print(items, []string{"ID", "TEAM", "NAME", "TEMPLATE", "STATUS", "REPOSITORY"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, x := range items {
					rows[i] = []string{x.Id, x.Team, x.Name, x.Template + " " + x.TemplateVersion, string(x.Status), orDash(x.RepoUrl)}
				}
				return rows
			})
		},
	}
	list.Flags().StringVar(&listTeam, "team", "", "only this team's projects")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a project and its bootstrap steps",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.GetProjectWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON200, nil, nil)
			}
			printProject(g.stdout, r.JSON200)
			return nil
		},
	}
	retry := &cobra.Command{
		Use:   "retry ID",
		Short: "Resume a failed project's bootstrap from the step that failed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.RetryProjectWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON202, nil, nil)
			}
			p.note("Retrying project %s. Follow it with: mlportal project show %s", args[0], args[0])
			return nil
		},
	}
	var deleteWait bool
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a project: its namespace (with everything in it), its repository, then the project",
		Long: `Delete a project. mlportal undoes the bootstrap last step first: the namespace and
everything in it, then the repository it made (GitHub repositories too), then the
project record, which frees the name. Use it to clean up after a failed bootstrap.`,
		Example: "  mlportal project delete prj_0123456789abcdef0123 --wait",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.DeleteProjectWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			if !deleteWait {
				if p.format != "table" {
					return p.print(r.JSON202, nil, nil)
				}
				p.note("Deleting project %s. Follow it with: mlportal project show %s", args[0], args[0])
				return nil
			}
			p.note("Deleting project %s (%s)…", r.JSON202.Name, args[0])
			final, err := c.watch(cmd.Context(), args[0], func(st api.ProjectStep) {
				if st.Status == "undone" || st.Status == "failed" {
					p.note("  %-10s  %-8s  %s", st.Name, st.Status, firstNonEmpty(deref(st.Error), deref(st.Detail)))
				}
			})
			if err != nil {
				return err
			}
			if final.Status != api.ProjectStatus("deleted") {
				return finished(p, final)
			}
			p.note("Project %s is deleted; its name is free again.", final.Name)
			return nil
		},
	}
	del.Flags().BoolVar(&deleteWait, "wait", false, "follow the deletion until it finishes")
	cmd.AddCommand(create, list, show, retry, del)
	return cmd
}

// finished tells what to do next, or why the project failed.
func finished(p printer, prj *api.Project) error {
	if prj.Status == api.ProjectStatus("succeeded") {
		p.note("\nProject %s is ready. Next:\n  git clone %s\n  cd %s && python -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt\n  git push   # the ml-pipeline workflow trains, evaluates and registers the model",
			prj.Name, deref(prj.RepoUrl), prj.Name)
		return nil
	}
	hint := "fix what the failed step says, then: mlportal project retry " + prj.Id
	for _, st := range prj.Steps {
		if st.Status == "undone" {
			hint = "fix what the failed step says, then delete again: mlportal project delete " + prj.Id
		}
	}
	e := &Error{Code: ExitError, Message: fmt.Sprintf("project %s did not finish: %s", prj.Name, prj.Status), Hint: hint}
	for _, st := range prj.Steps {
		if st.Error != nil {
			e.Details = append(e.Details, string(st.Name)+": "+*st.Error)
		}
	}
	return e
}

func printProject(w io.Writer, x *api.Project) {
	fmt.Fprintf(w, "id:          %s\nteam:        %s\nname:        %s\ntemplate:    %s %s\nstatus:      %s\nrepository:  %s (%s)\nnamespace:   %s\ncatalog:     %s\n\n",
		x.Id, x.Team, x.Name, x.Template, x.TemplateVersion, x.Status, orDash(x.RepoUrl), x.Scm, orDash(x.Namespace), orDash(x.EntityRef))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tATTEMPTS\tDETAIL")
	for _, st := range x.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", st.Name, st.Status, st.Attempts, firstNonEmpty(deref(st.Error), deref(st.Detail), "-"))
	}
	tw.Flush()
}

// watch follows the project's event stream, calling onStep for every step
// transition, and returns the project from the final `done` event.
func (c *conn) watch(ctx context.Context, id string, onStep func(api.ProjectStep)) (*api.Project, error) {
	req, err := api.NewWatchProjectRequest(c.server, id)
	if err != nil {
		return nil, err
	}
	req = req.WithContext(ctx)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", "mlportal-cli/"+version.Version)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// No client timeout: the stream lasts as long as the saga; ctx ends it.
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, transportError(c.server, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		return nil, apiError(res.StatusCode, res.Status, body)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	var event string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch event {
		case "step":
			var st api.ProjectStep
			if err := json.Unmarshal([]byte(data), &st); err == nil {
				onStep(st)
			}
		case "done", "deleted":
			var prj api.Project
			if err := json.Unmarshal([]byte(data), &prj); err != nil {
				return nil, fmt.Errorf("read the final project: %w", err)
			}
			return &prj, nil
		case "error":
			return nil, apiError(http.StatusInternalServerError, "error", []byte(data))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, transportError(c.server, err)
	}
	return nil, &Error{Code: ExitUnavailable, Message: "the server closed the progress stream before the project finished",
		Hint: "the bootstrap continues on the server: mlportal project show " + id}
}
