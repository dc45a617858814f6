package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
)

// mlflowTables renders the mlflow mode's results as tables of cells: the
// measured operations, the ratios of mlportal's throughput to MLflow's,
// and the seeding throughput.
func mlflowTables(reps []mlflowReport) [][][]string {
	ops := [][]string{{"target", "operation", "requests", "errors", "ops/s", "p50", "p95", "server CPU/op", "load avg"}}
	for _, r := range reps {
		for i, op := range r.ops {
			load := "—"
			if i < len(r.loads) {
				load = fmt.Sprintf("%.1f", r.loads[i])
			}
			ops = append(ops, []string{r.target, op.operation, fmt.Sprint(op.requests), fmt.Sprint(op.errors), rate(op.rate()),
				ms(op.p50), ms(op.p95), ms(op.serverCPU), load})
		}
	}
	seed := [][]string{{"target", "runs", "runs/s (API: 2 requests each)", "versions", "versions/s", "503s retried", "search hits", "versions listed"}}
	for _, r := range reps {
		runRate := perSecond(r.runSeed)
		if r.runSeed.direct {
			runRate += " (SQL into its tables)"
		}
		seed = append(seed, []string{r.target, fmt.Sprint(r.runSeed.items), runRate, fmt.Sprint(r.verSeed.items),
			perSecond(r.verSeed), fmt.Sprint(r.runSeed.retries + r.verSeed.retries), fmt.Sprint(len(r.answers.allRuns)), fmt.Sprint(r.answers.versions)})
	}
	tables := [][][]string{ops}
	var mlflow, mlportal []mlflowReport
	for _, r := range reps {
		if strings.HasPrefix(r.target, "MLflow") {
			mlflow = append(mlflow, r)
		} else {
			mlportal = append(mlportal, r)
		}
	}
	// Each mlportal backend against MLflow on the same backend: throughput,
	// then server CPU per operation.
	head := []string{"operation"}
	type pair struct{ p, m mlflowReport }
	var pairs []pair
	for _, p := range mlportal {
		for _, m := range mlflow {
			if backendOf(p.target) == backendOf(m.target) {
				pairs = append(pairs, pair{p, m})
				head = append(head, p.target+" ÷ "+m.target+" (ops/s)", "(CPU/op)")
			}
		}
	}
	if len(pairs) > 0 {
		ratios := [][]string{head}
		for i, op := range pairs[0].p.ops {
			row := []string{op.operation}
			for _, pm := range pairs {
				row = append(row, ratio(pm.p.ops, pm.m.ops, i), cpuRatio(pm.p.ops, pm.m.ops, i))
			}
			ratios = append(ratios, row)
		}
		tables = append(tables, ratios)
	}
	return append(tables, seed)
}

func ratio(a, b []result, i int) string {
	if i >= len(a) || i >= len(b) || b[i].rate() == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f×", a[i].rate()/b[i].rate())
}

// backendOf is the backend in a target's name: "MLflow sqlite (ANALYZE)" → "sqlite".
func backendOf(target string) string {
	if f := strings.Fields(target); len(f) > 1 {
		return f[1]
	}
	return target
}

// cpuRatio is b's server CPU per operation over a's: how many times less
// CPU a needs.
func cpuRatio(a, b []result, i int) string {
	if i >= len(a) || i >= len(b) || a[i].serverCPU <= 0 || b[i].serverCPU <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f×", float64(b[i].serverCPU)/float64(a[i].serverCPU))
}

func rate(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.2f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

func perSecond(s seedStat) string {
	if s.elapsed <= 0 {
		return "—"
	}
	return rate(float64(s.items) / s.elapsed.Seconds())
}

func printMLflow(w io.Writer, o options, reps []mlflowReport, notes []string) {
	fmt.Fprintf(w, "\nMLflow API side by side: %d runs, %d versions, %d workers, %s per operation (after %s warm-up), GOMAXPROCS %d (load generator and servers share this machine)\n",
		o.runs, o.versions, o.concurrency, o.duration, o.warmup, runtime.GOMAXPROCS(0))
	for _, t := range mlflowTables(reps) {
		fmt.Fprintln(w)
		widths := make([]int, len(t[0]))
		for _, row := range t {
			for i, c := range row {
				widths[i] = max(widths[i], len([]rune(c)))
			}
		}
		for _, row := range t {
			for i, c := range row {
				fmt.Fprintf(w, "%-*s  ", widths[i], c)
			}
			fmt.Fprintln(w)
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, "\n"+n)
	}
}

func mlflowMarkdown(o options, reps []mlflowReport, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d runs, %d versions, %d workers, %s per operation after %s warm-up; load generator and servers on the same machine, one server at a time.\n",
		o.runs, o.versions, o.concurrency, o.duration, o.warmup)
	for _, t := range mlflowTables(reps) {
		b.WriteString("\n| " + strings.Join(t[0], " | ") + " |\n|")
		for range t[0] {
			b.WriteString(" --- |")
		}
		b.WriteString("\n")
		for _, row := range t[1:] {
			b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		}
	}
	for _, n := range notes {
		b.WriteString("\n" + n + "\n")
	}
	return b.String()
}
