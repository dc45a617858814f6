package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/version"
)

// newTrainCmd is `mlportal train`: submit a training job with the
// project's lifecycle-template defaults, and optionally wait for it.
func newTrainCmd(g *globals) *cobra.Command {
	var in api.JobSubmit
	var team, project, name, image, gpuType, cpu, memory, timeout, priority, ref, estimate string
	var gpus, replicas, retries int
	var preemptible, wait bool
	var env, outputs []string
	cmd := &cobra.Command{
		Use:   "train [flags] [-- COMMAND ARGS...]",
		Short: "Run a training job on the GPU scheduler (defaults from the project's lifecycle template)",
		Long: `Submit a training job for a project. What you leave out comes from the project's
lifecycle template (image, command, CPU, memory, GPUs, timeout, retries, preemptible). The job
gets MLFLOW_TRACKING_URI, MLFLOW_RUN_ID and MLFLOW_TRACKING_TOKEN, so mlflow logging in the
code lands in the job's run with no configuration, and MLPORTAL_CHECKPOINT_DIR, where it should
write checkpoints: a preempted job resumes from the last one.

The project and team default to $MLPORTAL_PROJECT and $MLPORTAL_TEAM (a team token implies its
team).`,
		Example: `  mlportal train --project churn --team fraud --wait
  mlportal train --project churn --gpus 4 --gpu-type a100 --timeout 6h --preemptible=false
  mlportal train --project churn -- python src/train.py --config config/big.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			project = firstNonEmpty(project, os.Getenv("MLPORTAL_PROJECT"))
			team = firstNonEmpty(team, os.Getenv("MLPORTAL_TEAM"))
			if project == "" {
				return usageError("--project is required (or set MLPORTAL_PROJECT): the project whose code and template the job uses (`mlportal project list`)")
			}
			in = api.JobSubmit{Project: project, Team: optional(team), Name: optional(name), Image: optional(image),
				GpuType: optional(gpuType), Cpu: optional(cpu), Memory: optional(memory), Timeout: optional(timeout),
				Ref: optional(ref), EstimatedDuration: optional(estimate)}
			if len(args) > 0 {
				in.Command = &args
			}
			f := cmd.Flags()
			if f.Changed("gpus") {
				in.Gpus = &gpus
			}
			if f.Changed("replicas") {
				in.Replicas = &replicas
			}
			if f.Changed("retries") {
				in.Retries = &retries
			}
			if f.Changed("preemptible") {
				in.Preemptible = &preemptible
			}
			if priority != "" {
				pr := api.JobSubmitPriority(priority)
				in.Priority = &pr
			}
			if len(outputs) > 0 {
				in.Outputs = &outputs
			}
			if len(env) > 0 {
				m := map[string]string{}
				for _, kv := range env {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return usageError("--env wants NAME=value (got %q)", kv)
					}
					m[k] = v
				}
				in.Env = &m
			}
			r, err := c.api.SubmitJobWithResponse(cmd.Context(), &api.SubmitJobParams{}, in)
			if err := c.result(r, err); err != nil {
				return err
			}
			j := r.JSON201
			if !wait {
				if p.format != "table" {
					return p.print(j, nil, nil)
				}
				p.note("Queued job %s (%s) in project %s: %s.\nFollow it with: mlportal jobs status %s   (logs: mlportal jobs logs -f %s)",
					j.Id, j.Name, j.Project, describeResources(*j), j.Id, j.Id)
				return nil
			}
			fmt.Fprintf(g.stderr, "Queued job %s (%s): %s.\n", j.Id, j.Name, describeResources(*j))
			final, err := c.waitJob(cmd.Context(), j.Id, g.stderr)
			if err != nil {
				return err
			}
			if p.format != "table" {
				if err := p.print(final, nil, nil); err != nil {
					return err
				}
			}
			return jobFinished(p, final)
		},
	}
	f := cmd.Flags()
	f.StringVar(&project, "project", "", "the project (default $MLPORTAL_PROJECT)")
	f.StringVar(&team, "team", "", "the project's team (default $MLPORTAL_TEAM, or the token's team)")
	f.StringVar(&name, "name", "", "a name for the job (default <project>-<random>)")
	f.StringVar(&image, "image", "", "container image (Kubernetes executor)")
	f.IntVar(&gpus, "gpus", 0, "GPUs per replica")
	f.StringVar(&gpuType, "gpu-type", "", "GPU type, e.g. a100, or any")
	f.StringVar(&cpu, "cpu", "", "CPU per replica, e.g. 8 or 500m")
	f.StringVar(&memory, "memory", "", "memory per replica, e.g. 32Gi")
	f.IntVar(&replicas, "replicas", 1, "replicas of a distributed job (they start together)")
	f.StringVar(&timeout, "timeout", "", "stop the job after this long, e.g. 6h (0s: never)")
	f.IntVar(&retries, "retries", 0, "run a failed attempt again this many times")
	f.BoolVar(&preemptible, "preemptible", false, "run on cheaper preemptible capacity (resumes from its last checkpoint when preempted)")
	f.StringVar(&priority, "priority", "", "interactive, production, batch (default) or preemptible")
	f.StringVar(&ref, "ref", "", "branch, tag or commit of the project's repository (default: the default branch)")
	f.StringVar(&estimate, "estimated-duration", "", "how long you expect it to run, e.g. 2h (helps the scheduler pack)")
	f.StringArrayVar(&env, "env", nil, "NAME=value for the job's environment (repeatable)")
	f.StringArrayVar(&outputs, "output-artifact", nil, "a path the job writes, recorded on its run (repeatable)")
	f.BoolVar(&wait, "wait", false, "wait for the job to end, showing its state; exit non-zero unless it succeeds")
	return cmd
}

func describeResources(j api.Job) string {
	gpu := "no GPU"
	if j.Gpus > 0 {
		gpu = fmt.Sprintf("%d × %s GPU", j.Gpus, deref(j.GpuType))
	}
	s := fmt.Sprintf("%s, %s CPU, %s memory", gpu, j.Cpu, j.Memory)
	if j.Replicas > 1 {
		s = fmt.Sprintf("%d replicas of %s", j.Replicas, s)
	}
	return s + ", timeout " + j.Timeout
}

// waitJob polls the job until it ends, writing a line to w whenever its
// state or reason changes.
func (c *conn) waitJob(ctx context.Context, id string, w io.Writer) (*api.Job, error) {
	last := ""
	for {
		r, err := c.api.GetJobWithResponse(ctx, id)
		if err := c.result(r, err); err != nil {
			return nil, err
		}
		j := r.JSON200
		line := fmt.Sprintf("  %-9s %s", j.State, j.Reason)
		if line != last {
			fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
		switch j.State {
		case "succeeded", "failed", "cancelled", "timed-out":
			return j, nil
		}
		select {
		case <-ctx.Done():
			return nil, &Error{Code: ExitError, Message: "stopped waiting; the job goes on",
				Hint: "follow it with: mlportal jobs status " + id}
		case <-time.After(time.Second):
		}
	}
}

// jobFinished tells what to do next, or why the job did not succeed.
func jobFinished(p printer, j *api.Job) error {
	if j.State == "succeeded" {
		p.note("\nJob %s succeeded in %d attempt(s), %s GPU-hours.", j.Id, j.Attempt, gpuHours(j.GpuHours))
		if r := deref(j.RunId); r != "" {
			p.note("Its MLflow run: %s (experiment %s). Next: evaluate and register the model from it.", r, deref(j.ExperimentId))
		}
		return nil
	}
	return &Error{Code: ExitError, Message: fmt.Sprintf("job %s %s: %s", j.Id, j.State, j.Reason),
		Hint: "read its output with: mlportal jobs logs " + j.Id}
}

// newJobsCmd is `mlportal jobs`.
func newJobsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Aliases: []string{"job"}, Short: "List, follow, explain and cancel jobs"}
	var team, project string
	var states []string
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs (newest last)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			var st *[]api.ListJobsParamsState
			if len(states) > 0 {
				v := make([]api.ListJobsParamsState, len(states))
				for i, s := range states {
					v[i] = api.ListJobsParamsState(s)
				}
				st = &v
			}
			items, err := allPages(func(token *string) ([]api.Job, *string, error) {
				r, err := c.api.ListJobsWithResponse(cmd.Context(), &api.ListJobsParams{Team: optional(team), Project: optional(project),
					State: st, PageToken: token, Limit: ptr(500)})
				if err := c.result(r, err); err != nil {
					return nil, nil, err
				}
				return r.JSON200.Items, r.JSON200.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			return p.print(items, []string{"ID", "TEAM", "PROJECT", "NAME", "GPUS", "STATE", "ATTEMPT", "GPU-HOURS", "REASON"}, func() [][]string {
				rows := make([][]string, len(items))
				for i, x := range items {
					rows[i] = []string{x.Id, x.Team, x.Project, x.Name, fmt.Sprintf("%d×%d %s", max(x.Replicas, 1), x.Gpus, deref(x.GpuType)),
						string(x.State), fmt.Sprint(x.Attempt), gpuHours(x.GpuHours), truncate(x.Reason, 60)}
				}
				return rows
			})
		},
	}
	list.Flags().StringVar(&team, "team", "", "only this team's jobs")
	list.Flags().StringVar(&project, "project", "", "only this project's jobs")
	list.Flags().StringSliceVar(&states, "state", nil, "only these states (queued, running, …, or active)")

	status := &cobra.Command{
		Use:     "status JOB_ID",
		Aliases: []string{"show"},
		Short:   "Show a job: where it stands and why",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.GetJobWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON200, nil, nil)
			}
			printJob(g.stdout, r.JSON200)
			return nil
		},
	}
	explain := &cobra.Command{
		Use:   "explain JOB_ID",
		Short: "Say why a job waits and what would let it run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.GetJobWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			j := r.JSON200
			if p.format != "table" {
				return p.print(map[string]string{"id": j.Id, "state": string(j.State), "reason": j.Reason}, nil, nil)
			}
			fmt.Fprintf(g.stdout, "Job %s is %s.\n%s\n", j.Id, j.State, j.Reason)
			return nil
		},
	}
	var follow bool
	logs := &cobra.Command{
		Use:   "logs JOB_ID",
		Short: "Print a job's output (-f to follow it until it ends)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.streamLogs(cmd.Context(), args[0], follow, g.stdout)
		},
	}
	logs.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing until the job ends")
	cancel := &cobra.Command{
		Use:   "cancel JOB_ID",
		Short: "Cancel a job (a running one gets SIGTERM and time to checkpoint)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := g.clientAndPrinter()
			if err != nil {
				return err
			}
			r, err := c.api.CancelJobWithResponse(cmd.Context(), args[0])
			if err := c.result(r, err); err != nil {
				return err
			}
			if p.format != "table" {
				return p.print(r.JSON202, nil, nil)
			}
			p.note("Job %s is %s: %s", args[0], r.JSON202.State, r.JSON202.Reason)
			return nil
		},
	}
	cmd.AddCommand(list, status, explain, logs, cancel)
	return cmd
}

func printJob(w io.Writer, j *api.Job) {
	fmt.Fprintf(w, "id:         %s\nname:       %s\nproject:    %s/%s\nstate:      %s\nreason:     %s\nresources:  %s\npriority:   %s\nattempts:   %d (failures %d, preemptions %d)\nnodes:      %s\nrun:        %s\ngpu-hours:  %s\nsubmitted:  %s\n",
		j.Id, j.Name, j.Team, j.Project, j.State, j.Reason, describeResources(*j), j.Priority, j.Attempt, deref(j.Failures),
		deref(j.Preemptions), strings.Join(deref(j.Nodes), ", "), orDash(j.RunId), gpuHours(j.GpuHours), j.SubmittedAt.Format(time.RFC3339))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func ptr[T any](v T) *T { return &v }

// streamLogs copies the job's output to w as it arrives.
func (c *conn) streamLogs(ctx context.Context, id string, follow bool, w io.Writer) error {
	req, err := api.NewGetJobLogsRequest(c.server, id, &api.GetJobLogsParams{Follow: &follow})
	if err != nil {
		return err
	}
	req = req.WithContext(ctx)
	req.Header.Set("User-Agent", "mlportal-cli/"+version.Version)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := (&http.Client{}).Do(req) // no timeout: ctx ends a followed stream
	if err != nil {
		return transportError(c.server, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		return apiError(res.StatusCode, res.Status, body)
	}
	if _, err := io.Copy(w, res.Body); err != nil && ctx.Err() == nil {
		return transportError(c.server, err)
	}
	return nil
}

// gpuHours writes GPU-hours with enough digits to show a short job's.
func gpuHours(h float64) string {
	if h > 0 && h < 0.01 {
		return fmt.Sprintf("%.4f", h)
	}
	return fmt.Sprintf("%.2f", h)
}
