package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The mlflow mode (-mode mlflow) measures mlportal's MLflow REST API side by
// side with a real `mlflow server` on the same data, in one run. For each
// target in turn — mlportal on every -backends backend, then MLflow with a
// SQLite store and, when the venv's Python has psycopg2, a PostgreSQL
// store in another database of the same server — it starts the server,
// seeds it through the REST API with -seed-concurrency requests in flight
// (-runs runs in experiment "bench", each runs/create plus one log-batch
// of two metrics and two params; registered model "m" with -versions
// versions) — except MLflow's runs with -mlflow-seed sql, which are written
// into its store's tables (mlflowseed.go) because its API seeds 10–25 runs
// a second —, records what the server answers, measures five operations
// closed-loop with -concurrency workers for -duration each, and stops it.
// Only one server runs at a time, so they never share the CPU.
//
// Correctness: every target must answer the search with exactly the runs
// (by run name: run ids are the server's own) and order the seed data
// implies, and list exactly -versions versions. Times are never checked.

const (
	searchFilter = "metrics.rmse < 0.2 and params.model = 'm3'"
	searchOrder  = "metrics.accuracy DESC"
	benchModel   = "m"
)

// teamTag names the team that owns the experiments and the model: mlportal
// needs it, MLflow keeps it as an ordinary tag.
var teamTag = []map[string]string{{"key": "mlportal.team", "value": benchTeam}}

// mlflowTarget is one server speaking MLflow's REST API.
type mlflowTarget struct {
	name string // "mlportal sqlite", "MLflow sqlite", …
	c    *client
	cpu  func() time.Duration // the server's CPU time so far
	page int                  // max_results of runs/search and model-versions/search
	// seedRuns, when set, writes runs from..n-1 straight into the server's
	// store (mlflowseed.go); run 0 always goes through the REST API.
	seedRuns func(ctx context.Context, expID string, from, n int) error
	// afterSeed, when set, runs once everything is seeded (-mlflow-analyze).
	afterSeed func(ctx context.Context) error
}

// mlflowReport is what one target was measured to do.
type mlflowReport struct {
	target           string
	runSeed, verSeed seedStat
	ops              []result
	loads            []float64 // the 1-minute load average after each operation
	answers          mlflowAnswers
	complete         bool // seeded and answered; measured too when ops has every operation
}

type seedStat struct {
	direct  bool // written into the store's tables, not through the API
	items   int  // runs (2 requests each) or versions (1 request each)
	elapsed time.Duration
	retries int // requests answered 503 or 429 and sent again
}

// mlflowAnswers is what a target answered about the seeded data.
type mlflowAnswers struct {
	firstPage []string // runs/search's first page, run names in order
	allRuns   []string // every page
	latest    string   // registered-models/get: the highest latest version
	versions  int      // distinct versions over every page of model-versions/search
}

func (o options) validateMLflow() error {
	if o.page < 1 || o.page > 1000 {
		return fmt.Errorf("-page must be 1..1000")
	}
	if o.runs < 1 || o.runs > 1_000_000 || o.versions < 1 || o.versions > 100_000 || o.seedConcurrency < 1 || o.seedConcurrency > 1024 {
		return fmt.Errorf("-runs must be 1..1000000, -versions 1..100000 and -seed-concurrency 1..1024")
	}
	if o.mlflowSeed != "sql" && o.mlflowSeed != "api" {
		return fmt.Errorf("-mlflow-seed must be sql or api")
	}
	for _, t := range o.targets {
		if t != "mlportal" && t != "mlflow" {
			return fmt.Errorf("-targets: unknown target %q (want mlportal, mlflow)", t)
		}
	}
	if !slices.Contains(o.targets, "mlflow") {
		return nil
	}
	if o.mlflowVenv == "" {
		return fmt.Errorf("-mlflow-venv is empty and MLPORTAL_SKELETON_VENV unset: run `make skeleton-pyenv` and " +
			"export MLPORTAL_SKELETON_VENV=$(bash scaffolder-templates/ml-project/pyenv.sh --print-venv)")
	}
	if _, err := os.Stat(filepath.Join(o.mlflowVenv, "bin", "mlflow")); err != nil {
		return fmt.Errorf("-mlflow-venv: %w (make skeleton-pyenv creates a venv with mlflow)", err)
	}
	return nil
}

// mlflowMain runs the mlflow mode, prints the tables and fails on a wrong
// answer.
func mlflowMain(ctx context.Context, o options) error {
	reps, notes, err := runMLflow(ctx, o)
	printMLflow(os.Stdout, o, reps, notes)
	err = errors.Join(err, checkMLflow(o, reps))
	if err == nil && o.markdown != "" {
		err = os.WriteFile(o.markdown, []byte(mlflowMarkdown(o, reps, notes)), 0o644)
	}
	return err
}

// runMLflow measures mlportal on each backend, then MLflow on each backend
// it can use; notes say what was left out and why.
func runMLflow(ctx context.Context, o options) ([]mlflowReport, []string, error) {
	conns := max(o.concurrency, o.seedConcurrency)
	var reps []mlflowReport
	var err error
	if slices.Contains(o.targets, "mlportal") {
		reps, err = eachBackend(ctx, o, "mlflow ", conns, func(ctx context.Context, srv *server, c *client, backend string) ([]mlflowReport, error) {
			team := fmt.Appendf(nil, `{"name":%q,"displayName":"MLflow benchmark"}`, benchTeam)
			if st, err := c.do(ctx, http.MethodPost, "/api/v1/teams", c.bearer, team, nil); err != nil || st != http.StatusCreated {
				return nil, fmt.Errorf("create team %s: status %d: %v", benchTeam, st, err)
			}
			r, err := benchTarget(ctx, o, mlflowTarget{name: "mlportal " + backend, c: c, cpu: srv.cpuTime, page: o.page})
			if err != nil {
				err = fmt.Errorf("%w\nthe server's last log lines:\n%s", err, logTail(srv.logPath, 20))
			}
			return []mlflowReport{r}, err
		})
	}
	if err != nil || !slices.Contains(o.targets, "mlflow") {
		return reps, nil, err
	}
	var notes []string
	for _, backend := range o.backends {
		if backend == "postgres" && !mlflowCanUsePostgres(ctx, o.mlflowVenv) {
			notes = append(notes, "MLflow postgres: not measured: the venv's Python has no psycopg2, the driver MLflow's PostgreSQL store needs (make mlflow-server-pyenv creates a venv with it)")
			continue
		}
		fmt.Fprintf(os.Stderr, "loadgen: mlflow %s: starting mlflow server from %s\n", backend, o.mlflowVenv)
		r, err := withMLflow(ctx, o, backend, conns)
		reps = append(reps, r)
		if err != nil {
			return reps, notes, fmt.Errorf("MLflow %s: %w", backend, err)
		}
	}
	return reps, notes, nil
}

func withMLflow(ctx context.Context, o options, backend string, conns int) (_ mlflowReport, err error) {
	s, err := startMLflow(ctx, o, backend, conns)
	if err != nil {
		return mlflowReport{target: "MLflow " + backend}, err
	}
	defer func() {
		if serr := s.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	t := mlflowTarget{name: "MLflow " + backend, c: newClient(s.url, conns), cpu: s.cpuTime, page: o.page}
	if o.mlflowSeed == "sql" {
		st, err := openMLflowStore(s)
		if err != nil {
			return mlflowReport{target: t.name}, err
		}
		defer st.Close()
		t.seedRuns = st.seedRuns
		if o.mlflowAnalyze && !st.postgres {
			t.name += " (ANALYZE)"
			t.afterSeed = st.analyze
		}
	}
	r, err := benchTarget(ctx, o, t)
	if err != nil {
		err = fmt.Errorf("%w\nmlflow's last log lines:\n%s", err, logTail(s.logPath, 20))
	}
	return r, err
}

// logTail returns the last n lines of a server's log (which stop removes).
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// benchTarget seeds one target, records its answers and measures it.
func benchTarget(ctx context.Context, o options, t mlflowTarget) (mlflowReport, error) {
	rep := mlflowReport{target: t.name}
	t.c.http.Timeout = 5 * time.Minute // a search queued behind others on a slow server
	expID, err := t.createExperiment(ctx, "bench")
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(os.Stderr, "loadgen: %s: seeding %d runs, %d in flight\n", t.name, o.runs, o.seedConcurrency)
	var retries atomic.Int64
	start := time.Now()
	if t.seedRuns != nil {
		rep.runSeed.direct = true
		err = t.seedRun(ctx, &retries, expID, 0, o.runs)
		if err == nil {
			err = t.seedRuns(ctx, expID, 1, o.runs)
		}
	} else {
		err = parallel(ctx, o.runs, o.seedConcurrency, func(ctx context.Context, i int) error { return t.seedRun(ctx, &retries, expID, i, o.runs) })
	}
	if err != nil {
		return rep, fmt.Errorf("seed runs: %w", err)
	}
	rep.runSeed.items, rep.runSeed.elapsed, rep.runSeed.retries = o.runs, time.Since(start), int(retries.Swap(0))
	fmt.Fprintf(os.Stderr, "loadgen: %s: seeding %d versions of model %q\n", t.name, o.versions, benchModel)
	if err := t.c.mlflow(ctx, http.MethodPost, "registered-models/create", map[string]any{"name": benchModel, "tags": teamTag}, nil); err != nil {
		return rep, err
	}
	start = time.Now()
	if err := parallel(ctx, o.versions, o.seedConcurrency, func(ctx context.Context, i int) error {
		return retrying(ctx, &retries, func() error {
			return t.c.mlflow(ctx, http.MethodPost, "model-versions/create", map[string]any{"name": benchModel, "source": fmt.Sprintf("s3://bench/m/%d", i)}, nil)
		})
	}); err != nil {
		return rep, fmt.Errorf("seed versions: %w", err)
	}
	rep.verSeed = seedStat{items: o.versions, elapsed: time.Since(start), retries: int(retries.Load())}
	if t.afterSeed != nil {
		if err := t.afterSeed(ctx); err != nil {
			return rep, err
		}
	}
	if rep.answers, err = t.answers(ctx, expID, answersPage(o)); err != nil {
		return rep, err
	}
	rep.complete = true

	lbExp, err := t.createExperiment(ctx, "log-batch")
	if err != nil {
		return rep, err
	}
	lbRuns := make([]string, o.concurrency)
	for w := range lbRuns {
		if lbRuns[w], err = t.createRun(ctx, lbExp, fmt.Sprintf("log-batch-%d", w), 0); err != nil {
			return rep, err
		}
	}
	steps := make([]int, o.concurrency) // each worker logs later steps of its own run
	search := searchBody(expID, "", o.page)
	ops := []struct {
		name string
		req  func(ctx context.Context, w int) error
	}{
		{"log-batch, 1,000 metrics", func(ctx context.Context, w int) error {
			steps[w] += 10
			return t.c.mlflow(ctx, http.MethodPost, "runs/log-batch", map[string]any{"run_id": lbRuns[w], "metrics": thousandMetrics(steps[w])}, nil)
		}},
		{fmt.Sprintf("runs/search over %d runs, page of %d", o.runs, o.page), func(ctx context.Context, _ int) error {
			return t.c.mlflow(ctx, http.MethodPost, "runs/search", search, nil)
		}},
		{"registered-models/get", func(ctx context.Context, _ int) error {
			return t.c.mlflow(ctx, http.MethodGet, "registered-models/get?name="+benchModel, nil, nil)
		}},
		{fmt.Sprintf("model-versions/search, first page of %d", o.page), func(ctx context.Context, _ int) error {
			return t.c.mlflow(ctx, http.MethodGet, versionsPath("", o.page), nil, nil)
		}},
		{fmt.Sprintf("model-versions/search, all %d versions", o.versions), func(ctx context.Context, _ int) error {
			_, err := t.allVersions(ctx)
			return err
		}},
	}
	for _, op := range ops {
		fmt.Fprintf(os.Stderr, "loadgen: %s: %s for %s (+%s warm-up) with %d workers\n", t.name, op.name, o.duration, o.warmup, o.concurrency)
		var failures atomic.Int64
		req := func(ctx context.Context, w int) bool {
			err := op.req(ctx, w)
			if err != nil && ctx.Err() == nil && failures.Add(1) <= 3 {
				fmt.Fprintf(os.Stderr, "loadgen: %s: %s: %v\n", t.name, op.name, err)
			}
			return err == nil
		}
		if o.warmup > 0 {
			closedLoop(ctx, o.warmup, o.concurrency, o.maxRequests, req)
		}
		cpu0 := t.cpu()
		r := closedLoop(ctx, o.duration, o.concurrency, o.maxRequests, req)
		r.backend, r.operation = t.name, op.name
		if r.requests > 0 {
			r.serverCPU = (t.cpu() - cpu0) / time.Duration(r.requests)
		}
		rep.ops = append(rep.ops, r)
		rep.loads = append(rep.loads, loadAverage())
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// mlflow sends one MLflow API call; a status other than 200 is an error
// with the server's message.
func (c *client) mlflow(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/2.0/mlflow/"+path, body)
	if err != nil {
		return err
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &statusError{status: resp.StatusCode, msg: fmt.Sprintf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(msg))}
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// retrying calls f again, as MLflow's Python client does, while it fails
// with 503 (MLflow's SQLite store answers TEMPORARILY_UNAVAILABLE when
// the database is locked) or 429, up to 20 times; it counts the retries.
func retrying(ctx context.Context, retries *atomic.Int64, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		var se *statusError
		if err == nil || attempt > 20 || !errors.As(err, &se) || (se.status != http.StatusServiceUnavailable && se.status != http.StatusTooManyRequests) {
			return err
		}
		retries.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

func (t mlflowTarget) createExperiment(ctx context.Context, name string) (string, error) {
	var out struct {
		ExperimentID string `json:"experiment_id"`
	}
	err := t.c.mlflow(ctx, http.MethodPost, "experiments/create", map[string]any{"name": name, "tags": teamTag}, &out)
	return out.ExperimentID, err
}

func (t mlflowTarget) createRun(ctx context.Context, expID, name string, startTime int64) (string, error) {
	var out struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	err := t.c.mlflow(ctx, http.MethodPost, "runs/create", map[string]any{"experiment_id": expID, "run_name": name, "start_time": startTime}, &out)
	if err == nil && out.Run.Info.RunID == "" {
		err = fmt.Errorf("runs/create answered no run_id")
	}
	return out.Run.Info.RunID, err
}

// seedRun creates run i of n and logs its metrics and params in one batch.
func (t mlflowTarget) seedRun(ctx context.Context, retries *atomic.Int64, expID string, i, n int) error {
	var id string
	err := retrying(ctx, retries, func() (err error) {
		id, err = t.createRun(ctx, expID, runName(i), 1_700_000_000_000+int64(i))
		return err
	})
	if err != nil {
		return err
	}
	ts := 1_700_000_000_000 + int64(i)
	return retrying(ctx, retries, func() error {
		return t.c.mlflow(ctx, http.MethodPost, "runs/log-batch", map[string]any{"run_id": id,
			"metrics": []map[string]any{
				{"key": "rmse", "value": rmse(i), "timestamp": ts, "step": 0},
				{"key": "accuracy", "value": accuracy(i, n), "timestamp": ts, "step": 0}},
			"params": []map[string]string{{"key": "model", "value": model(i)}, {"key": "lr", "value": strconv.FormatFloat(float64(i*104729%1000)/1000, 'g', -1, 64)}},
		}, nil)
	})
}

// The seed data: run i has rmse from 1,000 values (a fifth below 0.2),
// model m0…m9 and an accuracy no other run has, so the search's order is
// fully determined and both servers must agree on it.
func runName(i int) string { return fmt.Sprintf("run-%07d", i) }
func rmse(i int) float64   { return float64(i*7919%1000) / 1000 }
func model(i int) string   { return "m" + strconv.Itoa(i%10) }
func accuracy(i, n int) float64 {
	p := 7927 // a multiplier coprime to n makes i → i·p mod n a permutation
	for gcd(p, n) != 1 {
		p++
	}
	return float64(i*p%n) / float64(n)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// expectedRuns is the search's answer computed from the seed data.
func expectedRuns(n int) []string {
	var idx []int
	for i := range n {
		if rmse(i) < 0.2 && model(i) == "m3" {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return -cmpFloat(accuracy(a, n), accuracy(b, n)) })
	names := make([]string, len(idx))
	for k, i := range idx {
		names[k] = runName(i)
	}
	return names
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// thousandMetrics is 100 keys × 10 steps from step on.
func thousandMetrics(step int) []map[string]any {
	ms := make([]map[string]any, 0, 1000)
	for k := range 100 {
		for s := range 10 {
			ms = append(ms, map[string]any{"key": "metric_" + strconv.Itoa(k), "value": float64(step+s) / 7, "timestamp": 1_700_000_000_000 + step + s, "step": step + s})
		}
	}
	return ms
}

func searchBody(expID, pageToken string, page int) map[string]any {
	b := map[string]any{"experiment_ids": []string{expID}, "filter": searchFilter, "order_by": []string{searchOrder}, "max_results": page}
	if pageToken != "" {
		b["page_token"] = pageToken
	}
	return b
}

func versionsPath(pageToken string, page int) string {
	q := url.Values{"filter": {"name='" + benchModel + "'"}, "max_results": {strconv.Itoa(page)}}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	return "model-versions/search?" + q.Encode()
}

// allVersions pages through model-versions/search and returns the versions.
func (t mlflowTarget) allVersions(ctx context.Context) ([]string, error) {
	var vs []string
	token := ""
	for {
		var page struct {
			ModelVersions []struct {
				Version string `json:"version"`
			} `json:"model_versions"`
			NextPageToken string `json:"next_page_token"`
		}
		if err := t.c.mlflow(ctx, http.MethodGet, versionsPath(token, t.page), nil, &page); err != nil {
			return vs, err
		}
		for _, v := range page.ModelVersions {
			vs = append(vs, v.Version)
		}
		if token = page.NextPageToken; token == "" || len(page.ModelVersions) == 0 {
			return vs, nil
		}
	}
}

// answersPage is the page size of the correctness check's walk over every
// matching run: -page, except at 20,000 runs and more, where it is 1,000,
// since MLflow answers each page of that search in 30–40 s over 100,000
// runs (its page token is an offset: every page runs the whole search).
func answersPage(o options) int {
	if o.runs >= 20_000 {
		return max(o.page, 1000)
	}
	return o.page
}

// answers records what the target says about the seeded data: the first
// page of the search with -page runs, then every matching run in pages of
// walkPage.
func (t mlflowTarget) answers(ctx context.Context, expID string, walkPage int) (mlflowAnswers, error) {
	var a mlflowAnswers
	var first struct {
		Runs []struct {
			Info struct {
				RunName string `json:"run_name"`
			} `json:"info"`
		} `json:"runs"`
	}
	if err := t.c.mlflow(ctx, http.MethodPost, "runs/search", searchBody(expID, "", t.page), &first); err != nil {
		return a, err
	}
	for _, r := range first.Runs {
		a.firstPage = append(a.firstPage, r.Info.RunName)
	}
	token := ""
	for {
		var out struct {
			Runs []struct {
				Info struct {
					RunName string `json:"run_name"`
				} `json:"info"`
			} `json:"runs"`
			NextPageToken string `json:"next_page_token"`
		}
		if err := t.c.mlflow(ctx, http.MethodPost, "runs/search", searchBody(expID, token, walkPage), &out); err != nil {
			return a, err
		}
		for _, r := range out.Runs {
			a.allRuns = append(a.allRuns, r.Info.RunName)
		}
		if token = out.NextPageToken; token == "" || len(out.Runs) == 0 {
			break
		}
	}
	var rm struct {
		RegisteredModel struct {
			LatestVersions []struct {
				Version string `json:"version"`
			} `json:"latest_versions"`
		} `json:"registered_model"`
	}
	if err := t.c.mlflow(ctx, http.MethodGet, "registered-models/get?name="+benchModel, nil, &rm); err != nil {
		return a, err
	}
	for _, v := range rm.RegisteredModel.LatestVersions {
		if n, _ := strconv.Atoi(v.Version); n > 0 && (a.latest == "" || n > atoi(a.latest)) {
			a.latest = v.Version
		}
	}
	vs, err := t.allVersions(ctx)
	slices.Sort(vs)
	a.versions = len(slices.Compact(vs))
	return a, err
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// parallel calls f for 0..n-1 with conc calls in flight and returns the
// first error, after which it starts no more calls. Item 0 runs alone
// first: it primes the server's statement caches, and mlportal prepares a
// statement on first use through its pool, which can starve when more
// transactions than pooled connections wait for a prepare at once
// (docs/benchmarks.md, "MLflow side by side over HTTP").
func parallel(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	if err := f(ctx, 0); err != nil {
		return fmt.Errorf("item 0: %w", err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(fmt.Errorf("item %d: %w", i, err))
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// checkMLflow compares every target's answers with the seed data's.
func checkMLflow(o options, reps []mlflowReport) error {
	want := expectedRuns(o.runs)
	wantFirst := want[:min(o.page, len(want))]
	var errs []error
	for _, r := range reps {
		a := r.answers
		if !r.complete {
			continue // its error is reported already
		}
		if !slices.Equal(a.firstPage, wantFirst) {
			errs = append(errs, fmt.Errorf("%s: runs/search's first page has %d runs %v…, want %d runs %v…",
				r.target, len(a.firstPage), head(a.firstPage), len(wantFirst), head(wantFirst)))
		}
		if !slices.Equal(a.allRuns, want) {
			errs = append(errs, fmt.Errorf("%s: runs/search over all pages found %d runs, want %d (or a different order)", r.target, len(a.allRuns), len(want)))
		}
		if a.versions != o.versions || a.latest != strconv.Itoa(o.versions) {
			errs = append(errs, fmt.Errorf("%s: model %q lists %d distinct versions, latest %q; want %d, latest %q",
				r.target, benchModel, a.versions, a.latest, o.versions, strconv.Itoa(o.versions)))
		}
		for _, op := range r.ops {
			if op.errors > 0 || op.requests == 0 {
				errs = append(errs, fmt.Errorf("%s: %s: %d of %d requests failed", r.target, op.operation, op.errors, op.requests))
			}
		}
	}
	return errors.Join(errs...)
}

func head(s []string) []string { return s[:min(3, len(s))] }

// loadAverage is the machine's 1-minute load average (0 without /proc):
// other jobs on the machine disturb a measurement, and this says when.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}
