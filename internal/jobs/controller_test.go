package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/store"
	"github.com/mlportal/mlportal/internal/team"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// scripted is an in-memory executor for the controller's unit tests: the
// test sets each job's phase. The real executors (internal/executor/local,
// internal/executor/kube) are tested with real processes and a real
// control plane, and drive this controller in the API's integration tests.
type scripted struct {
	mu       sync.Mutex
	nodes    []scheduler.Node
	started  map[string]executor.Spec
	phase    map[string]executor.Phase
	stops    map[string]executor.StopReason
	startErr error
	// cleanupGate, when set, holds every Cleanup until it is closed.
	cleanupGate chan struct{}
}

func newScripted(nodes ...scheduler.Node) *scripted {
	return &scripted{nodes: nodes, started: map[string]executor.Spec{}, phase: map[string]executor.Phase{}, stops: map[string]executor.StopReason{}}
}

func (s *scripted) Start(_ context.Context, spec executor.Spec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.startErr != nil {
		return s.startErr
	}
	s.started[spec.JobID] = spec
	s.phase[spec.JobID] = executor.PhaseRunning
	return nil
}

func (s *scripted) set(id string, p executor.Phase) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase[id] = p
}

func (s *scripted) spec(id string) (executor.Spec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.started[id]
	return sp, ok
}

func (s *scripted) Status(_ context.Context, id string) (executor.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.phase[id]
	if !ok {
		return executor.Status{}, fault.NotFound("job", id)
	}
	return executor.Status{JobID: id, Phase: p, ExitCode: map[bool]int{true: 1}[p == executor.PhaseFailed]}, nil
}

func (s *scripted) Logs(context.Context, string, bool, io.Writer) error { return nil }

func (s *scripted) Stop(_ context.Context, id string, reason executor.StopReason, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stops[id] = reason
	if reason == executor.StopPreempt {
		s.phase[id] = executor.PhasePreempted
	} else {
		s.phase[id] = executor.PhaseCancelled
	}
	return nil
}

func (s *scripted) Cleanup(_ context.Context, id string) error {
	s.mu.Lock()
	gate := s.cleanupGate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.phase, id)
	return nil
}

func (s *scripted) Inventory(context.Context) ([]scheduler.Node, error) { return s.nodes, nil }

type fixture struct {
	store *store.Store
	clock *clock.Fake
	exec  *scripted
	svc   *jobs.Service
	ctl   *jobs.Controller
}

var (
	alice = identity.Principal{Subject: "user:default/alice"}
	bob   = identity.Principal{Subject: "user:default/bob"}
)

func node(name string, gpus int) scheduler.Node {
	return scheduler.Node{Name: name, Pool: scheduler.PoolOnDemand, GPUType: "a100", GPUs: gpus, CPUMillis: 64000, MemoryBytes: 512 << 30}
}

func newFixture(t *testing.T, nodes ...scheduler.Node) *fixture {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(t.TempDir(), "mlportal.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	for _, tm := range []team.Team{
		{Name: "vision", Members: []identity.Member{{Subject: alice.Subject, Role: identity.RoleDeveloper}},
			GPUQuota: []team.GPUQuota{{GPUType: "a100", Nominal: 8, BorrowingLimit: 8}}},
		{Name: "speech", Members: []identity.Member{{Subject: bob.Subject, Role: identity.RoleDeveloper}},
			GPUQuota: []team.GPUQuota{{GPUType: "a100", Nominal: 0, BorrowingLimit: 8}}},
	} {
		tm.CreatedAt, tm.UpdatedAt, tm.Version = clk.Now(), clk.Now(), 1
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateProject(ctx, project.Project{ID: "prj_" + tm.Name, Team: tm.Name, Name: "model", Template: "training",
			TemplateVersion: "1.0.0", SCM: project.SCMLocal, Status: project.StatusSucceeded, CreatedAt: clk.Now(), UpdatedAt: clk.Now(), Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := lifecycle.NewCatalog(lifecycle.Shipped())
	if err != nil {
		t.Fatal(err)
	}
	ex := newScripted(nodes...)
	f := &fixture{store: st, clock: clk, exec: ex}
	f.ctl = jobs.NewController(jobs.ControllerConfig{Repo: st, Teams: st, Executor: ex, Leases: st, Clock: clk, Log: quiet,
		Policy: scheduler.DefaultPolicy(), Owner: "replica-a", TrackingURI: "http://mlportal.test", CheckpointRoot: "/ckpt"})
	f.svc = jobs.NewService(st, st, st, cat, ex, f.ctl, clk, nil)
	return f
}

// cycle runs one controller cycle and waits for the starts and stops it
// began, as a following cycle would see them.
func (f *fixture) cycle(t *testing.T) {
	t.Helper()
	if err := f.ctl.Cycle(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.ctl.Settle()
}

func (f *fixture) job(t *testing.T, id string) jobs.Job {
	t.Helper()
	j, err := f.store.GetJob(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func intp(n int) *int { return &n }

func TestSubmitTakesTheTemplatesDefaults(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	j, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model"})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.StateQueued || j.GPUs != 1 || j.GPUType != "any" || j.CPUMillis != 8000 || j.MemoryBytes != 32<<30 ||
		j.Timeout != 24*time.Hour || j.Retries != 2 || !j.Preemptible || strings.Join(j.Command, " ") != "python src/train.py --config config/hyperparams.yaml" {
		t.Errorf("defaults: %+v", j)
	}
	if !strings.HasPrefix(j.Name, "model-") || j.Template != "training" || j.Priority != scheduler.PriorityBatch {
		t.Errorf("name %q template %q priority %s", j.Name, j.Template, j.Priority)
	}
}

func TestSubmitRefusesBadInput(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	for _, tc := range []struct {
		req   jobs.SubmitRequest
		who   identity.Principal
		kind  error
		field string
	}{
		{jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(100)}, alice, fault.ErrInvalid, "gpus"},
		{jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(4), Replicas: 5}, alice, fault.ErrInvalid, "gpus"}, // 20 > 16
		{jobs.SubmitRequest{Team: "vision", Project: "model", Priority: "urgent"}, alice, fault.ErrInvalid, "priority"},
		{jobs.SubmitRequest{Team: "vision", Project: "model", CPU: "lots"}, alice, fault.ErrInvalid, "cpu"},
		{jobs.SubmitRequest{Team: "vision", Project: "model", Env: map[string]string{"MLFLOW_RUN_ID": "x"}}, alice, fault.ErrInvalid, "env.MLFLOW_RUN_ID"},
		{jobs.SubmitRequest{Team: "vision", Project: "model", Outputs: []string{"../etc"}}, alice, fault.ErrInvalid, "outputs"},
		{jobs.SubmitRequest{Team: "vision", Project: "model"}, bob, fault.ErrPermissionDenied, ""},
		{jobs.SubmitRequest{Team: "vision", Project: "nope"}, alice, fault.ErrNotFound, ""},
		{jobs.SubmitRequest{Team: "nobody", Project: "model"}, alice, fault.ErrNotFound, ""},
	} {
		_, err := f.svc.Submit(t.Context(), tc.who, tc.req)
		if !errors.Is(err, tc.kind) {
			t.Errorf("%+v: %v, want %v", tc.req, err, tc.kind)
			continue
		}
		if fe, _ := fault.As(err); tc.field != "" && (len(fe.Fields) == 0 || fe.Fields[0].Field != tc.field) {
			t.Errorf("%+v: fields %+v, want %s", tc.req, fe.Fields, tc.field)
		}
	}
}

// A job goes queued → starting → running → succeeded; the executor gets
// the placement, the MLflow and mlportal environment and a checkpoint
// directory, and the GPU time is accounted.
func TestJobRunsToSuccess(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	j, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(2)})
	if err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	got := f.job(t, j.ID)
	spec, ok := f.exec.spec(j.ID)
	if got.State != jobs.StateStarting || !ok || got.GPUType != "a100" || got.Attempt != 1 {
		t.Fatalf("after the first cycle: %s %q attempt %d, started %v", got.State, got.GPUType, got.Attempt, ok)
	}
	if spec.Nodes[0] != "n1" || spec.GPUs != 2 || spec.Env["MLFLOW_TRACKING_URI"] != "http://mlportal.test" ||
		spec.Env["MLPORTAL_JOB_ID"] != j.ID || spec.CheckpointDir != "/ckpt/"+j.ID {
		t.Errorf("spec: %+v", spec)
	}
	f.cycle(t)
	if got = f.job(t, j.ID); got.State != jobs.StateRunning {
		t.Fatalf("second cycle: %s %s", got.State, got.Reason)
	}
	f.clock.Advance(30 * time.Minute)
	f.exec.set(j.ID, executor.PhaseSucceeded)
	f.cycle(t)
	got = f.job(t, j.ID)
	if got.State != jobs.StateSucceeded || got.GPUSeconds != 2*1800 || got.FinishedAt.IsZero() {
		t.Fatalf("after success: %s gpuSeconds %v", got.State, got.GPUSeconds)
	}
}

// A failed attempt is retried while retries last, then the job fails with
// the reason.
func TestFailureIsRetriedThenFails(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	j, _ := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", Retries: intp(1)})
	for attempt := 1; attempt <= 2; attempt++ {
		f.cycle(t) // admit
		f.exec.set(j.ID, executor.PhaseFailed)
		f.cycle(t) // see the failure
	}
	got := f.job(t, j.ID)
	if got.State != jobs.StateFailed || got.Attempt != 2 || got.Failures != 2 || !strings.Contains(got.Reason, "exit code 1") ||
		!strings.Contains(got.Reason, "mlportal jobs logs "+j.ID) {
		t.Fatalf("after two failures: %s attempt %d failures %d %q", got.State, got.Attempt, got.Failures, got.Reason)
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	queued, _ := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(8)})
	f.clock.Advance(time.Second) // first come, first served
	waiting, _ := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(8)})
	f.cycle(t)
	if got := f.job(t, waiting.ID); got.State != jobs.StateQueued || got.Reason == "" {
		t.Fatalf("second 8-GPU job: %s %q", got.State, got.Reason)
	}
	if c, err := f.svc.Cancel(t.Context(), alice, waiting.ID); err != nil || c.State != jobs.StateCancelled {
		t.Fatalf("cancel queued: %v %v", c.State, err)
	}
	if c, err := f.svc.Cancel(t.Context(), alice, queued.ID); err != nil || c.State != jobs.StateStopping {
		t.Fatalf("cancel running: %v %v", c.State, err)
	}
	f.cycle(t) // sends the stop
	f.cycle(t) // sees it stopped
	if got := f.job(t, queued.ID); got.State != jobs.StateCancelled {
		t.Fatalf("after the stop: %s %q", got.State, got.Reason)
	}
	if _, err := f.svc.Cancel(t.Context(), alice, queued.ID); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("cancel an ended job: %v", err)
	}
}

// Team speech borrows vision's idle GPUs; when vision needs its nominal
// quota back, speech's job is preempted, requeued to resume, and vision's
// job starts on the freed node.
func TestReclaimPreemptsBorrowedWork(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	borrowed, err := f.svc.Submit(t.Context(), bob, jobs.SubmitRequest{Team: "speech", Project: "model", GPUs: intp(8)})
	if err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	f.cycle(t)
	if got := f.job(t, borrowed.ID); got.State != jobs.StateRunning {
		t.Fatalf("borrower: %s %q", got.State, got.Reason)
	}
	owner, _ := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(8), Priority: "production"})
	f.cycle(t) // preempts
	if got := f.job(t, borrowed.ID); got.State != jobs.StateStopping || f.exec.stops[borrowed.ID] != executor.StopPreempt {
		t.Fatalf("borrower after reclaim: %s stop %q", got.State, f.exec.stops[borrowed.ID])
	}
	f.cycle(t) // sees the preemption; its clean-up records it in the background
	f.cycle(t) // admits the owner
	f.cycle(t)
	b, o := f.job(t, borrowed.ID), f.job(t, owner.ID)
	// Its reason keeps why it is back in the queue ahead of why it waits.
	if b.State != jobs.StateQueued || b.Preemptions != 1 || !strings.HasPrefix(b.Reason, "preempted (1× so far); queued to resume from its last checkpoint; ") ||
		!strings.Contains(b.Reason, "team speech uses") {
		t.Errorf("borrower: %s preemptions %d %q", b.State, b.Preemptions, b.Reason)
	}
	if o.State != jobs.StateRunning {
		t.Errorf("owner: %s %q", o.State, o.Reason)
	}
}

// Only the replica holding the scheduler's lease acts.
func TestOneControllerActs(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	j, _ := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model"})
	other := jobs.NewController(jobs.ControllerConfig{Repo: f.store, Teams: f.store, Executor: f.exec, Leases: f.store, Clock: f.clock,
		Log: quiet, Policy: scheduler.DefaultPolicy(), Owner: "replica-b"})
	f.cycle(t) // replica-a takes the lease
	f.exec.set(j.ID, executor.PhaseSucceeded)
	if err := other.Cycle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.job(t, j.ID); got.State != jobs.StateStarting {
		t.Fatalf("replica-b acted without the lease: %s", got.State)
	}
}

// A cycle in which a job ends does not wait for its clean-up (archiving
// the output, deleting the pods, recording the end, closing the run): at
// thousands of jobs the clean-ups done inside the cycle held up every
// admission behind them. The job's GPUs count as held until its clean-up
// has recorded the end; then the next job gets them.
func TestEndedJobsAreCleanedUpOutsideTheCycle(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	a, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(8)})
	if err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	f.cycle(t)
	b, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(8)})
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	f.exec.mu.Lock()
	f.exec.cleanupGate = gate
	f.exec.mu.Unlock()
	f.exec.set(a.ID, executor.PhaseSucceeded)
	if err := f.ctl.Cycle(t.Context()); err != nil { // returns with A's clean-up held
		t.Fatal(err)
	}
	if got := f.job(t, a.ID); got.State != jobs.StateRunning {
		t.Errorf("A during its clean-up: %s, want running", got.State)
	}
	if got := f.job(t, b.ID); got.State != jobs.StateQueued {
		t.Errorf("B during A's clean-up: %s, want queued", got.State)
	}
	close(gate)
	f.ctl.Settle()
	if got := f.job(t, a.ID); got.State != jobs.StateSucceeded {
		t.Errorf("A after its clean-up: %s, want succeeded", got.State)
	}
	f.cycle(t)
	if got := f.job(t, b.ID); got.State != jobs.StateStarting {
		t.Errorf("B: %s (%s), want starting", got.State, got.Reason)
	}
}

// A job admitted (recorded as starting) whose start never happened — the
// server stopped in between — is started by the next cycle, once.
func TestAdmittedJobIsStartedAfterACrash(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	j, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(2)})
	if err != nil {
		t.Fatal(err)
	}
	// What the crashed replica left: admitted to n1, nothing started.
	next := j.Clone()
	next.State, next.Nodes, next.Attempt, next.Version = jobs.StateStarting, []string{"n1"}, 1, j.Version+1
	next.StartedAt = f.clock.Now()
	if err := f.store.UpdateJob(t.Context(), next, j.Version); err != nil {
		t.Fatal(err)
	}
	f.cycle(t)
	spec, ok := f.exec.spec(j.ID)
	if !ok || spec.Attempt != 1 || spec.Nodes[0] != "n1" {
		t.Fatalf("after a cycle: started %v, spec %+v; want attempt 1 started on n1", ok, spec)
	}
	f.cycle(t)
	if got := f.job(t, j.ID); got.State != jobs.StateRunning || got.Attempt != 1 {
		t.Errorf("then: %s attempt %d, want running attempt 1", got.State, got.Attempt)
	}
}

// A start the cluster refuses for a passing reason (unavailable, the
// namespace's quota not yet freed) does not use up the job's retries: the
// job waits, longer after each refusal in a row, then starts; a refusal
// for the job's own reason (invalid) counts as a failure.
func TestPassingStartFailuresBackOffWithoutUsingRetries(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	j, _ := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", Retries: intp(0)})
	f.exec.mu.Lock()
	f.exec.startErr = fault.New(fault.ErrUnavailable, "the cluster's Kubernetes API did not answer; retry later")
	f.exec.mu.Unlock()
	for i, wait := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		f.cycle(t) // admitted, refused
		got := f.job(t, j.ID)
		if got.State != jobs.StateQueued || got.Failures != 0 || got.StartErrors != i+1 ||
			!got.NotBefore.Equal(f.clock.Now().Add(wait)) || !strings.Contains(got.Reason, "did not answer") {
			t.Fatalf("refusal %d: %s failures %d startErrors %d notBefore %v %q", i+1, got.State, got.Failures, got.StartErrors, got.NotBefore, got.Reason)
		}
		f.clock.Advance(wait - time.Millisecond)
		f.cycle(t) // still waiting: not admitted
		if got := f.job(t, j.ID); got.State != jobs.StateQueued || got.Attempt != i+1 {
			t.Fatalf("during the wait: %s attempt %d", got.State, got.Attempt)
		}
		f.clock.Advance(time.Millisecond)
	}
	f.exec.mu.Lock()
	f.exec.startErr = nil
	f.exec.mu.Unlock()
	f.cycle(t) // admitted and started
	f.cycle(t) // running
	if got := f.job(t, j.ID); got.State != jobs.StateRunning || got.StartErrors != 0 || !got.NotBefore.IsZero() || got.Failures != 0 {
		t.Fatalf("after the cluster came back: %s startErrors %d notBefore %v failures %d", got.State, got.StartErrors, got.NotBefore, got.Failures)
	}

	k, _ := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", Retries: intp(0)})
	f.exec.mu.Lock()
	f.exec.startErr = fault.Invalid("the image name is not valid")
	f.exec.mu.Unlock()
	f.cycle(t)
	if got := f.job(t, k.ID); got.State != jobs.StateFailed || got.Failures != 1 || got.StartErrors != 0 {
		t.Fatalf("an invalid job: %s failures %d startErrors %d %q", got.State, got.Failures, got.StartErrors, got.Reason)
	}
}

// batchRuns counts how the controller asks for runs.
type batchRuns struct {
	mu            sync.Mutex
	batches, ones int
}

func (b *batchRuns) StartRun(_ context.Context, j jobs.Job) (jobs.RunRef, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ones++
	return jobs.RunRef{ExperimentID: "1", ExperimentName: j.Team + "/" + j.Project, RunID: "run-" + j.ID}, nil
}

func (b *batchRuns) StartRuns(_ context.Context, js []jobs.Job) ([]jobs.RunRef, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches++
	refs := make([]jobs.RunRef, len(js))
	for i, j := range js {
		refs[i] = jobs.RunRef{ExperimentID: "1", ExperimentName: j.Team + "/" + j.Project, RunID: "run-" + j.ID}
	}
	return refs, nil
}

func (b *batchRuns) EndRun(context.Context, jobs.Job) error { return nil }

type batchTokens struct {
	mu            sync.Mutex
	batches, ones int
}

func (b *batchTokens) JobToken(_ context.Context, j jobs.Job, _ time.Duration) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ones++
	return "tok-" + j.ID, nil
}

func (b *batchTokens) JobTokens(_ context.Context, js []jobs.Job, ttls []time.Duration) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches++
	toks := make([]string, len(js))
	for i, j := range js {
		if ttls[i] != j.Timeout+time.Hour {
			return nil, fmt.Errorf("job %s: token for %s, want its timeout (%s) and an hour", j.ID, ttls[i], j.Timeout)
		}
		toks[i] = "tok-" + j.ID
	}
	return toks, nil
}

// The runs and tokens of the jobs a cycle admits are created together and
// recorded before the starts, which then make none of their own; the job
// gets its run and token in its environment.
func TestAdmittedJobsGetTheirRunsInOneBatch(t *testing.T) {
	f := newFixture(t, node("n1", 8))
	runs, toks := &batchRuns{}, &batchTokens{}
	f.ctl = jobs.NewController(jobs.ControllerConfig{Repo: f.store, Teams: f.store, Executor: f.exec, Runs: runs, Tokens: toks, Clock: f.clock, Log: quiet,
		Policy: scheduler.DefaultPolicy(), Owner: "replica-a", CheckpointRoot: "/ckpt"})
	var ids []string
	for range 4 {
		j, err := f.svc.Submit(t.Context(), alice, jobs.SubmitRequest{Team: "vision", Project: "model", GPUs: intp(2)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	f.cycle(t)
	if runs.batches != 1 || runs.ones != 0 {
		t.Fatalf("runs made in %d batches and %d one by one, want 1 and 0", runs.batches, runs.ones)
	}
	if toks.batches != 1 || toks.ones != 0 {
		t.Fatalf("tokens issued in %d batches and %d one by one, want 1 and 0", toks.batches, toks.ones)
	}
	for _, id := range ids {
		got := f.job(t, id)
		spec, ok := f.exec.spec(id)
		if got.State != jobs.StateStarting || got.RunID != "run-"+id || !ok || spec.Env["MLFLOW_RUN_ID"] != "run-"+id ||
			spec.Env["MLFLOW_EXPERIMENT_NAME"] != "vision/model" || spec.Env["MLFLOW_TRACKING_TOKEN"] != "tok-"+id {
			t.Errorf("job %s: %s run %q, started %v with run %q and token %q", id, got.State, got.RunID, ok,
				spec.Env["MLFLOW_RUN_ID"], spec.Env["MLFLOW_TRACKING_TOKEN"])
		}
	}
}
