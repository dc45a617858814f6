package trace_test

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
	"github.com/mlportal/mlportal/internal/scheduler/trace"
)

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := trace.Config{Seed: 7, Teams: 6, Jobs: 2000, Days: 2, GPUTypes: []string{"a100", "h100"}}
	a, err := trace.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := trace.Generate(cfg)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same config, different traces:\n%s", diff)
	}
	cfg.Seed = 8
	c, _ := trace.Generate(cfg)
	if cmp.Equal(a, c) {
		t.Fatal("another seed gave the same trace")
	}
}

// TestGenerateShape checks the properties the published traces share.
func TestGenerateShape(t *testing.T) {
	jobs, err := trace.Generate(trace.Config{Seed: 1, Teams: 8, Jobs: 20000, Days: 7, GPUTypes: []string{"a100", "h100"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 20000 {
		t.Fatalf("%d jobs", len(jobs))
	}
	var oneGPU, big int
	var gpuHours, bigHours float64
	durations := make([]float64, 0, len(jobs))
	perHour := make([]int, 24)
	teams := map[string]int{}
	preemptible := 0
	for i, j := range jobs {
		if err := j.Validate(); err != nil {
			t.Fatal(err)
		}
		if i > 0 && j.Submit < jobs[i-1].Submit {
			t.Fatalf("not sorted by submission at %d", i)
		}
		if j.Submit < 0 || j.Submit > 7*86400 {
			t.Fatalf("submission %g outside the span", j.Submit)
		}
		if !slices.Contains([]int{1, 2, 4, 8}, j.GPUs) || (j.Replicas > 1 && j.GPUs != 8) {
			t.Fatalf("odd size %d×%d", j.GPUs, j.Replicas)
		}
		g := float64(j.TotalGPUs())
		if j.TotalGPUs() == 1 {
			oneGPU++
		}
		if j.TotalGPUs() >= 8 {
			big++
			bigHours += g * j.Duration / 3600
		}
		gpuHours += g * j.Duration / 3600
		durations = append(durations, j.Duration)
		perHour[int(math.Mod(j.Submit/3600, 24))]++
		teams[j.Team]++
		if j.Preemptible {
			preemptible++
		}
	}
	n := float64(len(jobs))
	if f := float64(oneGPU) / n; f < 0.45 || f > 0.8 {
		t.Errorf("one-GPU jobs are %.0f %% of jobs; the traces have about 50-75 %%", 100*f)
	}
	if f := float64(big) / n; f > 0.25 {
		t.Errorf("8+ GPU jobs are %.0f %% of jobs; they should be few", 100*f)
	}
	if f := bigHours / gpuHours; f < 0.4 {
		t.Errorf("8+ GPU jobs hold %.0f %% of GPU-hours; in the traces the few large jobs hold most", 100*f)
	}
	slices.Sort(durations)
	median, p99 := durations[len(durations)/2], durations[len(durations)*99/100]
	if median < 5*60 || median > 3*3600 || p99 < 20*median {
		t.Errorf("run times: median %.0fs, p99 %.0fs; want a median of minutes to an hour and a heavy tail", median, p99)
	}
	lo, hi := slices.Min(perHour), slices.Max(perHour)
	if float64(hi) < 1.8*float64(lo) {
		t.Errorf("arrivals per hour of day range %d-%d; want a diurnal cycle", lo, hi)
	}
	if len(teams) != 8 {
		t.Errorf("%d teams submitted", len(teams))
	}
	counts := make([]int, 0, len(teams))
	for _, c := range teams {
		counts = append(counts, c)
	}
	if slices.Max(counts) < 2*slices.Min(counts) {
		t.Errorf("team volumes %v are too even", counts)
	}
	if f := float64(preemptible) / n; f < 0.1 || f > 0.5 {
		t.Errorf("preemptible share %.2f", f)
	}
}

func TestRoundTrip(t *testing.T) {
	jobs, _ := trace.Generate(trace.Config{Seed: 3, Jobs: 300})
	var buf bytes.Buffer
	if err := trace.Write(&buf, jobs); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != 300 {
		t.Fatalf("%d lines", lines)
	}
	back, err := trace.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jobs, back); diff != "" {
		t.Fatalf("round trip:\n%s", diff)
	}
	sj := back[0].SchedulerJob(time.Unix(0, 0).UTC())
	if sj.ID != jobs[0].ID || sj.SubmittedAt != time.Unix(0, 0).UTC().Add(time.Duration(jobs[0].Submit)*time.Second) || sj.MemoryBytes != jobs[0].MemoryMiB<<20 {
		t.Fatalf("scheduler job: %+v", sj)
	}
}

func TestReadRefuses(t *testing.T) {
	for _, c := range []struct{ name, in, says string }{
		{"not json", "hello\n", "line 1 is not a job"},
		{"unknown field", `{"id":"a","team":"t","gpus":1,"gpuType":"a100","durationSeconds":5,"colour":"red"}`, "unknown field"},
		{"no duration", `{"id":"a","team":"t","gpus":1,"gpuType":"a100"}`, "durationSeconds"},
		{"bad priority", `{"id":"a","team":"t","gpus":1,"gpuType":"a100","durationSeconds":5,"priority":"urgent"}`, "priority"},
		{"duplicate", "{\"id\":\"a\",\"team\":\"t\",\"durationSeconds\":5}\n\n{\"id\":\"a\",\"team\":\"t\",\"durationSeconds\":5}\n", "line 3 repeats job ID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := trace.Read(strings.NewReader(c.in))
			if err == nil || !errors.Is(err, fault.ErrInvalid) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v, want one saying %q", err, c.says)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (trace.Config{Teams: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "teams") {
		t.Fatalf("got %v", err)
	}
	if _, err := trace.Generate(trace.Config{Days: -2}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	_ = scheduler.PriorityBatch
}
