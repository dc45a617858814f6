package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// The bootstrap mode (-mode bootstrap) measures ML project creation end to
// end with the local git provider, in local mode or, with -kubeconfig, with
// the namespace step applying to that cluster: per project, the
// time from POST /api/v1/projects until GET /api/v1/projects/{id} says
// succeeded. It creates -projects projects one after another, then
// -concurrent projects at once, and checks that the concurrent ones all
// succeeded exactly once: the project list and the bare repositories under
// the data dir's git root each hold exactly that many.

// benchTeam owns the measured projects; its GPU ceiling fits them all.
const benchTeam = "bench"

// bootstrapResult is one phase of the bootstrap mode.
type bootstrapResult struct {
	backend, phase       string
	projects, failures   int
	elapsed              time.Duration
	p50, p95, max        time.Duration
	listed, repositories int // concurrent phase: what exists afterwards (-1 = not checked)
}

func runBootstrap(ctx context.Context, o options) ([]bootstrapResult, error) {
	return eachBackend(ctx, o, "bootstrap ", o.concurrent+1, func(ctx context.Context, srv *server, c *client, backend string) ([]bootstrapResult, error) {
		return bootstrapBackend(ctx, o, srv, c, backend)
	})
}

func bootstrapBackend(ctx context.Context, o options, srv *server, c *client, backend string) (_ []bootstrapResult, err error) {
	gpus := o.projects + o.concurrent + 1
	team := fmt.Sprintf(`{"name":%q,"displayName":"Bootstrap benchmark","gpuQuota":[{"gpuType":"nvidia-a100","nominal":%d,"borrowingLimit":0}]}`,
		benchTeam, gpus)
	if st, err := c.do(ctx, http.MethodPost, "/api/v1/teams", c.bearer, []byte(team), nil); err != nil || st != http.StatusCreated {
		return nil, fmt.Errorf("create team %s: status %d: %v", benchTeam, st, err)
	}
	// One unmeasured project warms the server (template rendering, git).
	if _, err := c.bootstrap(ctx, "warm-up", o.poll); err != nil {
		return nil, fmt.Errorf("warm-up project: %w", err)
	}

	var results []bootstrapResult
	fmt.Fprintf(os.Stderr, "loadgen: bootstrap %s: %d projects one after another\n", backend, o.projects)
	seq := bootstrapResult{backend: backend, phase: "sequential", listed: -1, repositories: -1}
	var lat []time.Duration
	start := time.Now()
	for i := range o.projects {
		d, err := c.bootstrap(ctx, fmt.Sprintf("seq-%03d", i), o.poll)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: seq-%03d: %v\n", i, err)
			seq.failures++
			continue
		}
		lat = append(lat, d)
	}
	seq.elapsed = time.Since(start)
	seq.summarize(lat)
	results = append(results, seq)
	if err := ctx.Err(); err != nil {
		return results, err
	}

	fmt.Fprintf(os.Stderr, "loadgen: bootstrap %s: %d projects at once\n", backend, o.concurrent)
	conc := bootstrapResult{backend: backend, phase: "concurrent"}
	lat = make([]time.Duration, o.concurrent)
	errs := make([]error, o.concurrent)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range o.concurrent {
		wg.Go(func() {
			<-gate
			lat[i], errs[i] = c.bootstrap(ctx, fmt.Sprintf("conc-%03d", i), o.poll)
		})
	}
	start = time.Now()
	close(gate)
	wg.Wait()
	conc.elapsed = time.Since(start)
	var ok []time.Duration
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: conc-%03d: %v\n", i, err)
			conc.failures++
			continue
		}
		ok = append(ok, lat[i])
	}
	conc.summarize(ok)
	if conc.listed, err = c.countProjects(ctx, "conc-"); err != nil {
		return append(results, conc), err
	}
	if conc.repositories, err = countRepos(filepath.Join(srv.dir, "data", "git", benchTeam), "conc-"); err != nil {
		return append(results, conc), err
	}
	return append(results, conc), nil
}

// summarize records the percentiles of the successful projects.
func (r *bootstrapResult) summarize(lat []time.Duration) {
	slices.Sort(lat)
	r.projects = len(lat) + r.failures
	if n := len(lat); n > 0 {
		r.p50, r.p95, r.max = median(lat), lat[(n*95+99)/100-1], lat[n-1]
	}
}

func median(s []time.Duration) time.Duration {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// bootstrap creates project name and polls it until its saga stops; it
// returns the time from sending the POST to seeing succeeded.
func (c *client) bootstrap(ctx context.Context, name string, poll time.Duration) (time.Duration, error) {
	body := fmt.Appendf(nil, `{"team":%q,"name":%q,"template":"training","quota":{"gpus":1}}`, benchTeam, name)
	var p struct {
		ID     string
		Status string
		Steps  []struct{ Name, Status, Error string }
	}
	t0 := time.Now()
	st, err := c.do(ctx, http.MethodPost, "/api/v1/projects", c.bearer, body, &p)
	if err != nil || st != http.StatusCreated {
		return 0, fmt.Errorf("POST /api/v1/projects: status %d: %v", st, err)
	}
	deadline := t0.Add(2 * time.Minute)
	for p.Status != "succeeded" {
		if p.Status == "failed" {
			return 0, fmt.Errorf("project %s failed: %+v", p.ID, p.Steps)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("project %s still %s after 2m", p.ID, p.Status)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(poll):
		}
		if st, err := c.do(ctx, http.MethodGet, "/api/v1/projects/"+p.ID, c.bearer, nil, &p); err != nil || st != http.StatusOK {
			return 0, fmt.Errorf("GET /api/v1/projects/%s: status %d: %v", p.ID, st, err)
		}
	}
	return time.Since(t0), nil
}

// countProjects lists the bench team's projects and counts those whose
// name starts with prefix.
func (c *client) countProjects(ctx context.Context, prefix string) (int, error) {
	n, token := 0, ""
	for {
		path := "/api/v1/projects?team=" + benchTeam + "&limit=100"
		if token != "" {
			path += "&pageToken=" + url.QueryEscape(token)
		}
		var page struct {
			Items         []struct{ Name string }
			NextPageToken string
		}
		if st, err := c.do(ctx, http.MethodGet, path, c.bearer, nil, &page); err != nil || st != http.StatusOK {
			return n, fmt.Errorf("GET %s: status %d: %v", path, st, err)
		}
		for _, it := range page.Items {
			if strings.HasPrefix(it.Name, prefix) {
				n++
			}
		}
		if token = page.NextPageToken; token == "" {
			return n, nil
		}
	}
}

// countRepos counts the bare repositories <prefix>*.git under dir.
func countRepos(dir, prefix string) (int, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("list repositories: %w", err)
	}
	n := 0
	for _, e := range es {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) && strings.HasSuffix(e.Name(), ".git") {
			n++
		}
	}
	return n, nil
}

var bootstrapHeader = []string{"backend", "phase", "projects", "failures", "median", "p95", "max", "wall time", "listed", "repositories"}

func (r bootstrapResult) row() []string {
	count := func(n int) string {
		if n < 0 {
			return "—"
		}
		return fmt.Sprint(n)
	}
	return []string{r.backend, r.phase, fmt.Sprint(r.projects), fmt.Sprint(r.failures), ms(r.p50), ms(r.p95), ms(r.max),
		ms(r.elapsed), count(r.listed), count(r.repositories)}
}

// check reports what the concurrent phase got wrong, if anything.
func (r bootstrapResult) check(want int) error {
	if r.phase != "concurrent" {
		if r.failures > 0 {
			return fmt.Errorf("%s %s: %d projects failed", r.backend, r.phase, r.failures)
		}
		return nil
	}
	if r.failures > 0 || r.listed != want || r.repositories != want {
		return fmt.Errorf("%s concurrent: %d failed, %d listed and %d repositories, want 0, %d and %d",
			r.backend, r.failures, r.listed, r.repositories, want, want)
	}
	return nil
}

func printBootstrap(w io.Writer, o options, rs []bootstrapResult) {
	where := "local mode"
	if o.kubeconfig != "" {
		where = "namespaces on the cluster of " + o.kubeconfig
	}
	fmt.Fprintf(w, "\nbootstrap (%s): %d sequential, %d concurrent projects, polling every %s, GOMAXPROCS %d (load generator and server share this machine)\n\n",
		where, o.projects, o.concurrent, o.poll, runtime.GOMAXPROCS(0))
	rows := [][]string{bootstrapHeader}
	for _, r := range rs {
		rows = append(rows, r.row())
	}
	widths := make([]int, len(bootstrapHeader))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, row := range rows {
		for i, c := range row {
			fmt.Fprintf(w, "%-*s  ", widths[i], c)
		}
		fmt.Fprintln(w)
	}
}

func writeBootstrapMarkdown(o options, rs []bootstrapResult) error {
	var b strings.Builder
	b.WriteString("| " + strings.Join(bootstrapHeader, " | ") + " |\n|")
	for range bootstrapHeader {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rs {
		b.WriteString("| " + strings.Join(r.row(), " | ") + " |\n")
	}
	return os.WriteFile(o.markdown, []byte(b.String()), 0o644)
}

// bootstrapMain runs the bootstrap mode and reports a failed check.
func bootstrapMain(ctx context.Context, o options) error {
	rs, err := runBootstrap(ctx, o)
	printBootstrap(os.Stdout, o, rs)
	for _, r := range rs {
		err = errors.Join(err, r.check(o.concurrent))
	}
	if err == nil && o.markdown != "" {
		err = writeBootstrapMarkdown(o, rs)
	}
	return err
}
