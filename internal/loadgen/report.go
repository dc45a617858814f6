package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

var header = []string{"backend", "operation", "requests", "errors", "req/s", "p50", "p90", "p99", "max", "server CPU/req", "loadgen CPU/req"}

func (r result) row() []string {
	return []string{r.backend, r.operation, fmt.Sprint(r.requests), fmt.Sprint(r.errors), fmt.Sprintf("%.0f", r.rate()),
		ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max), us(r.serverCPU), us(r.loadgenCPU)}
}

func us(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func printTable(w io.Writer, o options, rs []result) {
	fmt.Fprintf(w, "\n%d workers, %s per phase, GOMAXPROCS %d (load generator and server share this machine)\n\n",
		o.concurrency, o.duration, runtime.GOMAXPROCS(0))
	rows := [][]string{header}
	for _, r := range rs {
		rows = append(rows, r.row())
	}
	width := make([]int, len(header))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len(cell))
		}
	}
	for _, row := range rows {
		for i, cell := range row {
			if i < 2 {
				fmt.Fprintf(w, "%-*s  ", width[i], cell)
			} else {
				fmt.Fprintf(w, "%*s  ", width[i], cell)
			}
		}
		fmt.Fprintln(w)
	}
}

func writeMarkdown(o options, rs []result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d workers, %s per phase (after %s warm-up), load generator and server on the same machine.\n\n",
		o.concurrency, o.duration, o.warmup)
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|---|---|" + strings.Repeat("---:|", len(header)-2) + "\n")
	for _, r := range rs {
		b.WriteString("| " + strings.Join(r.row(), " | ") + " |\n")
	}
	return os.WriteFile(o.markdown, []byte(b.String()), 0o644)
}
