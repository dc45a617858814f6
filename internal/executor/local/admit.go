package local

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mlportal/mlportal/internal/executor"
	"github.com/mlportal/mlportal/internal/fault"
)

// validate refuses specs this executor cannot run, naming the field.
func (e *Executor) validate(s executor.Spec) error {
	var fields []fault.FieldError
	if !jobIDPattern.MatchString(s.JobID) {
		fields = append(fields, fault.Field("jobId", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit (got %q)", s.JobID))
	}
	if len(s.Command) == 0 || s.Command[0] == "" {
		fields = append(fields, fault.Field("command", "is empty: give the program to run, e.g. [\"python\", \"train.py\"]"))
	}
	if s.GPUs < 0 {
		fields = append(fields, fault.Field("gpus", "must not be negative"))
	}
	if s.Timeout < 0 {
		fields = append(fields, fault.Field("timeout", "must not be negative"))
	}
	if s.GPUs > 0 && e.node.GPUs == 0 {
		fields = append(fields, fault.Field("gpus", "node %s has no GPUs (nvidia-smi found none); run the job without GPUs or on another executor", e.node.Name))
	} else if s.GPUs*s.Replicas > e.node.GPUs {
		fields = append(fields, fault.Field("gpus", "%d replicas × %d GPUs exceed the %d GPUs of node %s", s.Replicas, s.GPUs, e.node.GPUs, e.node.Name))
	}
	if s.GPUs > 0 && s.GPUType != "" && s.GPUType != e.node.GPUType {
		fields = append(fields, fault.Field("gpuType", "node %s has %s GPUs, not %s", e.node.Name, e.node.GPUType, s.GPUType))
	}
	if len(s.Nodes) != 0 && len(s.Nodes) != s.Replicas {
		fields = append(fields, fault.Field("nodes", "has %d entries for %d replicas", len(s.Nodes), s.Replicas))
	}
	for i, n := range s.Nodes {
		if n != "" && n != e.node.Name {
			fields = append(fields, fault.Field(fmt.Sprintf("nodes[%d]", i), "the local executor runs on node %s, not %s", e.node.Name, n))
		}
	}
	if s.Workspace != "" {
		if fi, err := os.Stat(s.Workspace); err != nil || !fi.IsDir() {
			fields = append(fields, fault.Field("workspace", "%s is not a directory this server can read", s.Workspace))
		}
	}
	if len(fields) > 0 {
		return fault.Invalid("the local executor cannot run this job", fields...)
	}
	return nil
}

// reserve picks spec.GPUs free devices per replica (mu held).
func (e *Executor) reserve(s executor.Spec) ([][]int, error) {
	out := make([][]int, s.Replicas)
	if s.GPUs == 0 {
		return out, nil
	}
	var free []int
	holders := map[string]bool{}
	for _, g := range e.gpus {
		if id, busy := e.inUse[g.Index]; busy {
			holders[id] = true
		} else {
			free = append(free, g.Index)
		}
	}
	need := s.GPUs * s.Replicas
	if len(free) < need {
		ids := make([]string, 0, len(holders))
		for id := range holders {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return nil, fault.New(fault.ErrConflict,
			"job %s needs %d GPUs but only %d of node %s's %d are free (held by %s); the scheduler admitted it on a stale view: requeue it until those jobs end",
			s.JobID, need, len(free), e.node.Name, len(e.gpus), strings.Join(ids, ", "))
	}
	for r := range out {
		out[r] = free[r*s.GPUs : (r+1)*s.GPUs]
	}
	return out, nil
}

// hold marks the job's devices in use (mu held).
func (e *Executor) hold(j *job) {
	for _, r := range j.st.Replicas {
		for _, d := range r.GPUs {
			e.inUse[d] = j.st.Spec.JobID
		}
	}
}

// release frees the job's devices (mu held).
func (e *Executor) release(j *job) {
	for _, r := range j.st.Replicas {
		for _, d := range r.GPUs {
			if e.inUse[d] == j.st.Spec.JobID {
				delete(e.inUse, d)
			}
		}
	}
}
