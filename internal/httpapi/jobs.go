package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlportal/mlportal/internal/api"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/pagination"
)

// Jobs is the jobs service as the handlers use it.
type Jobs interface {
	Submit(ctx context.Context, p identity.Principal, req jobs.SubmitRequest) (jobs.Job, error)
	Get(ctx context.Context, p identity.Principal, id string) (jobs.Job, error)
	List(ctx context.Context, p identity.Principal, f jobs.Filter, page pagination.Page) ([]jobs.Job, string, error)
	Cancel(ctx context.Context, p identity.Principal, id string) (jobs.Job, error)
	Logs(ctx context.Context, p identity.Principal, id string, follow bool, w io.Writer) error
}

// SubmitJob queues a job.
func (s *Server) SubmitJob(c echo.Context, _ api.SubmitJobParams) error {
	var in api.JobSubmit
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	setAuditTarget(c, "jobs/"+deref(in.Team)+"/"+in.Project)
	req := jobs.SubmitRequest{Team: deref(in.Team), Ref: deref(in.Ref), Project: in.Project, Name: deref(in.Name), Image: deref(in.Image), Command: deref(in.Command),
		Env: deref(in.Env), GPUs: in.Gpus, GPUType: deref(in.GpuType), CPU: deref(in.Cpu), Memory: deref(in.Memory),
		Replicas: deref(in.Replicas), Retries: in.Retries, Preemptible: in.Preemptible, Outputs: deref(in.Outputs)}
	if in.Priority != nil {
		req.Priority = string(*in.Priority)
	}
	var errs []fault.FieldError
	for _, d := range []struct {
		field string
		in    *string
		out   *time.Duration
	}{{"timeout", in.Timeout, &req.Timeout}, {"estimatedDuration", in.EstimatedDuration, &req.EstimatedDuration}} {
		if d.in == nil {
			continue
		}
		v, err := time.ParseDuration(*d.in)
		if err != nil {
			errs = append(errs, fault.Field(d.field, "must be a duration such as 90m or 24h (got %q)", *d.in))
		}
		*d.out = v
	}
	if len(errs) > 0 {
		return fault.Invalid("the job is not valid", errs...)
	}
	j, err := s.Jobs.Submit(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	setAuditTarget(c, "jobs/"+j.ID)
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/jobs/"+j.ID)
	return writeJSON(c, http.StatusCreated, jobOut(j))
}

// ListJobs returns a page of jobs.
func (s *Server) ListJobs(c echo.Context, params api.ListJobsParams) error {
	page, err := pagination.Parse(params.Limit, params.PageToken)
	if err != nil {
		return err
	}
	f := jobs.Filter{Team: deref(params.Team), Project: deref(params.Project)}
	for _, st := range deref(params.State) {
		if st == api.ListJobsParamsStateActive {
			for _, a := range jobs.States {
				if !a.Final() {
					f.States = append(f.States, a)
				}
			}
			continue
		}
		f.States = append(f.States, jobs.State(st))
	}
	js, next, err := s.Jobs.List(c.Request().Context(), principal(c), f, page)
	if err != nil {
		return err
	}
	out := api.JobList{Items: make([]api.Job, len(js)), NextPageToken: strPtr(next)}
	for i, j := range js {
		out.Items[i] = jobOut(j)
	}
	return writeJSON(c, http.StatusOK, out)
}

// GetJob returns one job.
func (s *Server) GetJob(c echo.Context, id api.JobId) error {
	j, err := s.Jobs.Get(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, jobOut(j))
}

// CancelJob cancels a job.
func (s *Server) CancelJob(c echo.Context, id api.JobId) error {
	setAuditTarget(c, "jobs/"+id)
	j, err := s.Jobs.Cancel(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusAccepted, jobOut(j))
}

// GetJobLogs streams the job's output as plain text.
func (s *Server) GetJobLogs(c echo.Context, id api.JobId, params api.GetJobLogsParams) error {
	ctx := c.Request().Context()
	p := principal(c)
	if _, err := s.Jobs.Get(ctx, p, id); err != nil {
		return err
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	fw := &flushWriter{w: w, rc: rc}
	w.Header().Set(echo.HeaderContentType, "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	err := s.Jobs.Logs(ctx, p, id, deref(params.Follow), fw)
	if err != nil && !fw.wrote {
		return err // nothing sent yet: a normal error answer
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("job logs", "job", id, "err", err)
	}
	return nil
}

// flushWriter sends every write at once and moves the write deadline, so
// that followed logs outlive the server's WriteTimeout.
type flushWriter struct {
	w     *echo.Response
	rc    *http.ResponseController
	wrote bool
}

func (f *flushWriter) Write(b []byte) (int, error) {
	if !f.wrote {
		f.w.WriteHeader(http.StatusOK)
		f.wrote = true
	}
	_ = f.rc.SetWriteDeadline(time.Now().Add(watchWriteGrace))
	n, err := f.w.Write(b)
	if err == nil {
		err = f.rc.Flush()
	}
	return n, err
}

func jobOut(j jobs.Job) api.Job {
	out := api.Job{Id: j.ID, Team: j.Team, Project: j.Project, Name: j.Name, Template: strPtr(j.Template),
		TemplateVersion: strPtr(j.TemplateVersion), Priority: api.JobPriority(j.Priority.String()), Image: strPtr(j.Image),
		Command: j.Command, Gpus: j.GPUs, GpuType: strPtr(j.GPUType), Cpu: milliCPU(j.CPUMillis), Memory: bytesQuantity(j.MemoryBytes),
		Replicas: max(j.Replicas, 1), Timeout: j.Timeout.String(), Retries: j.Retries, Preemptible: j.Preemptible,
		State: api.JobState(j.State), Reason: j.Reason, Attempt: j.Attempt, Failures: &j.Failures, Preemptions: &j.Preemptions,
		ExperimentId: strPtr(j.ExperimentID), RunId: strPtr(j.RunID), ArtifactUri: strPtr(j.ArtifactURI),
		GpuHours: j.GPUSeconds / 3600, SubmittedAt: j.SubmittedAt, StartedAt: formatTime(j.StartedAt), FinishedAt: formatTime(j.FinishedAt),
		CreatedBy: j.CreatedBy, Version: j.Version}
	if j.Command == nil {
		out.Command = []string{}
	}
	if len(j.Env) > 0 {
		out.Env = &j.Env
	}
	if j.EstimatedDuration > 0 {
		out.EstimatedDuration = strPtr(j.EstimatedDuration.String())
	}
	if j.Ref != "" {
		out.Ref = &j.Ref
	}
	if len(j.Outputs) > 0 {
		out.Outputs = &j.Outputs
	}
	if len(j.Nodes) > 0 {
		out.Nodes = &j.Nodes
	}
	if j.Attempt > 0 && (j.State.Final() || j.ExitCode != 0) {
		out.ExitCode = &j.ExitCode
	}
	return out
}

// milliCPU writes CPU like Kubernetes: "8", "500m".
func milliCPU(m int64) string {
	if m%1000 == 0 {
		return strconv.FormatInt(m/1000, 10)
	}
	return strconv.FormatInt(m, 10) + "m"
}

// bytesQuantity writes memory like Kubernetes: "32Gi", "512Mi", or bytes.
func bytesQuantity(b int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if b >= u.size && b%u.size == 0 {
			return strconv.FormatInt(b/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(b, 10)
}
