package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/scheduler/sim"
	"github.com/mlportal/mlportal/internal/scheduler/trace"
	"github.com/mlportal/mlportal/internal/team"
)

// Targets of issue 5 the comparison is read against.
const (
	simWasteTarget = 0.35 // at least 35 % less cost lost to idle or stranded GPUs
	simJCTTarget   = 2.0  // at least 2× lower mean job completion time
)

func newSimCmd(g *globals) *cobra.Command {
	var (
		traceFile, saveTrace string
		gen                  trace.Config
		cl                   sim.ClusterConfig
		gpuTypes             []string
		prices               []string
		teamWeights          []string
		opt                  sim.Options
		preemptWait          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Replay a GPU-cluster trace through mlportal's scheduler and a FIFO + first-fit baseline, side by side",
		Long: `Replay a GPU-cluster trace on a virtual clock through mlportal's real scheduler and
through a FIFO + first-fit baseline (what a namespace ResourceQuota and the default
kube-scheduler give: hard per-team quotas, no borrowing, no preemption, no gang admission),
and compare GPU utilisation, GPU-hours and cost lost to idle or stranded GPUs, job
completion and queueing times, fairness across teams and preemptions.

Without --trace a synthetic trace is generated (modelled on the Philly, PAI and Helios
traces: mostly one-GPU jobs, heavy-tailed run times, daily cycles, bursts, several kinds of
teams). Each team's nominal quota is its share of the GPU-hours it asks for, the same in
both replays. Teams have fair-share weight 1 unless --team-weight says otherwise; the
weights order borrowers in mlportal's replay and weight the fairness index (the FIFO
baseline does not borrow). Nothing runs on a cluster; no server is needed.`,
		Example: `  mlportal sim
  mlportal sim --jobs 8000 --nodes 128 --days 5 --seed 7
  mlportal sim --team-weight team-00=3 --team-weight team-01=0.5
  mlportal sim --save-trace trace.jsonl --jobs 500 && mlportal sim --trace trace.jsonl -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.printer()
			if err != nil {
				return err
			}
			priceMap, err := parsePrices(prices)
			if err != nil {
				return err
			}
			gen.GPUTypes, cl.GPUTypes, opt.Prices = gpuTypes, gpuTypes, priceMap
			var jobs []trace.Job
			if traceFile != "" {
				if jobs, err = readTrace(cmd.InOrStdin(), traceFile); err != nil {
					return err
				}
			} else if gen.Teams < 1 || gen.Jobs < 1 || gen.Days <= 0 {
				return usageError("--teams, --jobs and --days must be above 0 (got %d, %d, %g)", gen.Teams, gen.Jobs, gen.Days)
			} else if jobs, err = trace.Generate(gen); err != nil {
				return simError(err)
			}
			if saveTrace != "" {
				if err := writeTrace(saveTrace, jobs); err != nil {
					return err
				}
			}
			c, err := sim.NewCluster(cl, jobs)
			if err != nil {
				return simError(err)
			}
			if err := setTeamWeights(c.Teams, teamWeights); err != nil {
				return err
			}
			pol := scheduler.DefaultPolicy()
			if cmd.Flags().Changed("preempt-wait") {
				pol.PreemptWait = preemptWait
			}
			opt.Policy = &pol
			res, err := sim.Compare(cmd.Context(), jobs, c, opt)
			if err != nil {
				return simError(err)
			}
			if p.format != "table" {
				return p.print(res, nil, nil)
			}
			printComparison(g.stdout, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&traceFile, "trace", "", "replay this JSON Lines trace (- for stdin) instead of generating one")
	f.StringVar(&saveTrace, "save-trace", "", "write the replayed trace to this file as JSON Lines")
	f.IntVar(&gen.Teams, "teams", 8, "teams in the generated trace")
	f.IntVar(&gen.Jobs, "jobs", 4000, "jobs in the generated trace")
	f.Float64Var(&gen.Days, "days", 3, "days over which the generated jobs are submitted")
	f.Uint64Var(&gen.Seed, "seed", 1, "seed of the generated trace (same seed, same trace)")
	f.StringSliceVar(&gpuTypes, "gpu-types", []string{"a100"}, "GPU types; nodes are split evenly between them")
	f.IntVar(&cl.Nodes, "nodes", 64, "nodes in the simulated cluster")
	f.IntVar(&cl.GPUsPerNode, "gpus-per-node", 8, "GPUs per node")
	f.Float64Var(&cl.SpotFraction, "spot-fraction", 0.25, "share of each GPU type's nodes that are spot capacity")
	f.DurationVar(&opt.CheckpointInterval, "checkpoint-interval", 30*time.Minute, "how often checkpointable jobs save their progress")
	f.DurationVar(&opt.GracePeriod, "grace-period", 30*time.Second, "how long a preempted job takes to stop")
	f.DurationVar(&preemptWait, "preempt-wait", scheduler.DefaultPolicy().PreemptWait, "wait instead of preempting when running jobs are estimated to make room within this long")
	f.StringSliceVar(&prices, "price", nil, "on-demand price per GPU-hour of a GPU type, TYPE=PRICE (default 2.5 for any type)")
	f.Float64Var(&opt.SpotPriceFactor, "spot-price-factor", 0.4, "spot price as a share of the on-demand price")
	f.StringSliceVar(&teamWeights, "team-weight", nil, "fair-share weight of a team of the trace, TEAM=WEIGHT (0.01-100; default 1)")
	return cmd
}

// setTeamWeights applies TEAM=WEIGHT flags to the simulated teams.
func setTeamWeights(teams []scheduler.Team, specs []string) error {
	for _, s := range specs {
		name, v, ok := strings.Cut(s, "=")
		w, err := strconv.ParseFloat(v, 64)
		if !ok || name == "" || err != nil || !(w >= team.MinWeight && w <= team.MaxWeight) {
			return usageError("--team-weight must be TEAM=WEIGHT with a weight of %g-%g, such as team-00=3 (got %q)", team.MinWeight, team.MaxWeight, s)
		}
		i := slices.IndexFunc(teams, func(t scheduler.Team) bool { return t.Name == name })
		if i < 0 {
			names := make([]string, len(teams))
			for j, t := range teams {
				names[j] = t.Name
			}
			return usageError("--team-weight %q: the trace has no team %s; its teams are %s", s, name, strings.Join(names, ", "))
		}
		teams[i].Weight = w
	}
	return nil
}

func parsePrices(specs []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, s := range specs {
		typ, v, ok := strings.Cut(s, "=")
		price, err := strconv.ParseFloat(v, 64)
		if !ok || typ == "" || err != nil || price < 0 {
			return nil, usageError("--price must be TYPE=PRICE, such as a100=2.5 (got %q)", s)
		}
		out[typ] = price
	}
	return out, nil
}

func readTrace(stdin io.Reader, path string) ([]trace.Job, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &Error{Code: ExitUsage, Message: fmt.Sprintf("cannot read the trace: %v", err),
				Hint: "pass a JSON Lines file written by `mlportal sim --save-trace FILE`, or omit --trace to generate one"}
		}
		defer f.Close()
		r = f
	}
	jobs, err := trace.Read(r)
	if err != nil {
		return nil, simError(err)
	}
	return jobs, nil
}

func writeTrace(path string, jobs []trace.Job) error {
	f, err := os.Create(path)
	if err != nil {
		return &Error{Code: ExitError, Message: fmt.Sprintf("cannot write the trace: %v", err), Hint: "choose a writable path for --save-trace"}
	}
	if err := trace.Write(f, jobs); err != nil {
		f.Close()
		return &Error{Code: ExitError, Message: fmt.Sprintf("cannot write the trace: %v", err)}
	}
	return f.Close()
}

// simError turns the simulator's refusals into CLI errors.
func simError(err error) error {
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	e := &Error{Code: ExitInvalid, Message: fe.Message, Hint: "check the flags against `mlportal sim --help`"}
	for _, f := range fe.Fields {
		e.Details = append(e.Details, f.Field+": "+f.Reason)
	}
	return e
}

// printComparison writes the side-by-side table and what it means.
func printComparison(w io.Writer, c sim.Comparison) {
	m, b := c.MLPortal, c.Baseline
	fmt.Fprintf(w, "Replayed %d jobs of %d teams, submitted over %.1f hours, on %d nodes (%d GPUs, %d of them spot); offered load %.2f.\n\n",
		c.Jobs, c.Teams, c.SpanHours, c.Nodes, c.GPUs, c.SpotGPUs, c.OfferedLoad)
	pct := func(v, base float64) string {
		if base == 0 {
			return "-"
		}
		return fmt.Sprintf("%+.0f%%", 100*(v-base)/base)
	}
	times := func(v, base float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f× lower", base/v)
	}
	rows := [][]string{
		{"jobs completed", fmt.Sprint(m.Completed), fmt.Sprint(b.Completed), ""},
		{"GPU utilisation while jobs arrive", fmt.Sprintf("%.0f%%", 100*m.Utilisation), fmt.Sprintf("%.0f%%", 100*b.Utilisation), fmt.Sprintf("%+.0f points", 100*(m.Utilisation-b.Utilisation))},
		{"GPU-hours idle while jobs waited", fmt.Sprintf("%.0f", m.IdleGPUHours), fmt.Sprintf("%.0f", b.IdleGPUHours), pct(m.IdleGPUHours, b.IdleGPUHours)},
		{"GPU-hours stranded (partial gangs)", fmt.Sprintf("%.0f", m.StrandedGPUHours), fmt.Sprintf("%.0f", b.StrandedGPUHours), pct(m.StrandedGPUHours, b.StrandedGPUHours)},
		{"GPU-hours lost to preemption", fmt.Sprintf("%.0f", m.LostGPUHours), fmt.Sprintf("%.0f", b.LostGPUHours), ""},
		{"cost lost to idle/stranded GPUs", money(m.IdleCost + m.StrandedCost), money(b.IdleCost + b.StrandedCost), pct(m.IdleCost+m.StrandedCost, b.IdleCost+b.StrandedCost)},
		{"  … plus work lost to preemption", money(m.WastedCost), money(b.WastedCost), pct(m.WastedCost, b.WastedCost)},
		{"cost of GPU-hours run", money(m.BusyCost), money(b.BusyCost), pct(m.BusyCost, b.BusyCost)},
		{"mean job completion time", hours(m.MeanJCTHours), hours(b.MeanJCTHours), times(m.MeanJCTHours, b.MeanJCTHours)},
		{"p95 job completion time", hours(m.P95JCTHours), hours(b.P95JCTHours), times(m.P95JCTHours, b.P95JCTHours)},
		{"mean queueing delay", hours(m.MeanQueueingHours), hours(b.MeanQueueingHours), times(m.MeanQueueingHours, b.MeanQueueingHours)},
		{"fairness (Jain's index, 1 = fair)", fmt.Sprintf("%.2f", m.Fairness), fmt.Sprintf("%.2f", b.Fairness), ""},
		{"preemptions", fmt.Sprint(m.Preemptions), fmt.Sprint(b.Preemptions), ""},
	}
	p := printer{w: w, format: "table"}
	_ = p.print(nil, []string{"METRIC", "MLPORTAL", "FIFO+FIRST-FIT", "CHANGE"}, func() [][]string { return rows })

	wasteCut := 1 - m.WastedCost/max(b.WastedCost, 1e-9)
	jctRatio := b.MeanJCTHours / max(m.MeanJCTHours, 1e-9)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	fmt.Fprintf(w, "\nWhat it means:\n")
	fmt.Fprintf(w, "- GPU-hour cost lost to idle, stranded or preempted work: %.0f%% less than the baseline (target ≥ %.0f%%: %s).\n",
		100*wasteCut, 100*simWasteTarget, verdict(wasteCut >= simWasteTarget))
	fmt.Fprintf(w, "- Mean job completion time: %.2f× lower (target ≥ %.0f×: %s).\n", jctRatio, simJCTTarget, verdict(jctRatio >= simJCTTarget))
	fmt.Fprintf(w, "- The baseline leaves GPUs idle while teams over their quota wait and holds GPUs for gangs\n"+
		"  that cannot start; mlportal lends idle quota to other teams, takes it back by preemption\n"+
		"  when the owner needs it, admits gangs whole and packs jobs best-fit.\n")
	if m.Preemptions > 0 {
		fmt.Fprintf(w, "- mlportal's %d preemptions cost %.0f GPU-hours of work since the victims' last checkpoints\n"+
			"  (--checkpoint-interval); jobs that checkpoint more often lose less.\n", m.Preemptions, m.LostGPUHours)
	}
	if c.OfferedLoad > 1.5 {
		fmt.Fprintf(w, "- The cluster is heavily overloaded (%.2f): queues grow until submissions stop, so\n"+
			"  completion times are mostly backlog under both. Lower --jobs or raise --nodes.\n", c.OfferedLoad)
	}
	if c.OfferedLoad < 0.85 {
		fmt.Fprintf(w, "- The offered load is light (%.2f): queues are short under both, so completion times are\n"+
			"  mostly run time. Raise --jobs or lower --nodes to see a busy cluster.\n", c.OfferedLoad)
	}
	if m.Completed < m.Jobs || b.Completed < b.Jobs {
		fmt.Fprintf(w, "- Not every job finished (a quota or node too small for it): compare completion counts.\n")
	}
}

func money(v float64) string { return fmt.Sprintf("%.0f", v) }

func hours(h float64) string {
	d := time.Duration(h * float64(time.Hour)).Round(time.Minute)
	s := strings.TrimSuffix(d.String(), "0s")
	if s == "" {
		return "0m"
	}
	return s
}
