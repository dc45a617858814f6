// Package trace generates synthetic GPU-cluster job traces modelled on
// published ones (Microsoft Philly, Alibaba PAI, SenseTime Helios) and
// reads and writes them as JSON Lines, one job per line.
//
// The generator reproduces the shape those studies report rather than any
// one cluster: most jobs use one GPU while a few multi-node jobs use most
// GPU-hours; run times are log-normal with a heavy tail and grow with job
// size; arrivals follow a diurnal cycle and come in bursts (sweeps of
// similar jobs); teams differ in size mix, priority, preemptibility and
// volume; users' duration estimates are biased and noisy. The same Config
// (seed included) always gives the same trace.
//
// It does not replay anything (package sim does) and knows nothing about
// quotas or nodes.
package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/scheduler"
)

// Job is one line of a trace. Times are seconds from the trace's start.
type Job struct {
	ID       string                  `json:"id"`
	Team     string                  `json:"team"`
	Project  string                  `json:"project,omitempty"`
	Submit   float64                 `json:"submitSeconds"`
	GPUType  string                  `json:"gpuType"`
	GPUs     int                     `json:"gpus"`
	Replicas int                     `json:"replicas"`
	Priority scheduler.PriorityClass `json:"priority"`
	// Preemptible jobs accept being stopped for higher classes.
	Preemptible    bool `json:"preemptible,omitempty"`
	Checkpointable bool `json:"checkpointable,omitempty"`
	// Duration is the true run time; Estimate what the submitter said (0:
	// none).
	Duration  float64 `json:"durationSeconds"`
	Estimate  float64 `json:"estimateSeconds,omitempty"`
	CPUMillis int64   `json:"cpuMillis"`
	MemoryMiB int64   `json:"memoryMiB"`
}

// TotalGPUs is GPUs × replicas.
func (j Job) TotalGPUs() int { return j.GPUs * max(j.Replicas, 1) }

// SchedulerJob is the job as the scheduler sees it, for a trace started at
// start.
func (j Job) SchedulerJob(start time.Time) scheduler.Job {
	return scheduler.Job{
		ID: j.ID, Team: j.Team, Project: j.Project, Priority: j.Priority, GPUType: j.GPUType, GPUs: j.GPUs,
		Replicas: max(j.Replicas, 1), CPUMillis: j.CPUMillis, MemoryBytes: j.MemoryMiB << 20,
		Preemptible: j.Preemptible, Checkpointable: j.Checkpointable,
		EstimatedDuration: seconds(j.Estimate), SubmittedAt: start.Add(seconds(j.Submit)),
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Validate says what is wrong with a trace line.
func (j Job) Validate() error {
	var errs []fault.FieldError
	if j.ID == "" {
		errs = append(errs, fault.Field("id", "must not be empty"))
	}
	if j.Team == "" {
		errs = append(errs, fault.Field("team", "must not be empty"))
	}
	if j.GPUs < 0 || (j.GPUs > 0 && j.GPUType == "") {
		errs = append(errs, fault.Field("gpus", "must be 0 or more, with a gpuType when above 0"))
	}
	if j.Replicas < 0 {
		errs = append(errs, fault.Field("replicas", "must be 1 or more"))
	}
	if j.Duration <= 0 {
		errs = append(errs, fault.Field("durationSeconds", "must be above 0"))
	}
	if j.Submit < 0 || j.Estimate < 0 {
		errs = append(errs, fault.Field("submitSeconds", "times must not be negative"))
	}
	if len(errs) > 0 {
		return fault.Invalid(fmt.Sprintf("trace job %q is invalid", j.ID), errs...)
	}
	return nil
}

// Write writes jobs as JSON Lines.
func Write(w io.Writer, jobs []Job) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range jobs {
		if err := enc.Encode(&jobs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Read reads a JSON Lines trace, refusing unknown fields and invalid jobs
// with the line number.
func Read(r io.Reader) ([]Job, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var jobs []Job
	seen := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var j Job
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return nil, fault.Invalid(fmt.Sprintf("trace line %d is not a job: %v", line, err),
				fault.Field(fmt.Sprintf("line %d", line), "write one JSON object per line with the fields of trace.Job (mlportal sim --save-trace writes an example)"))
		}
		if j.Replicas == 0 {
			j.Replicas = 1
		}
		if err := j.Validate(); err != nil {
			return nil, fault.Invalid(fmt.Sprintf("trace line %d: %v", line, err))
		}
		if prev, dup := seen[j.ID]; dup {
			return nil, fault.Invalid(fmt.Sprintf("trace line %d repeats job ID %q of line %d; IDs must be unique", line, j.ID, prev))
		}
		seen[j.ID] = line
		jobs = append(jobs, j)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return jobs, nil
}
