package app

import (
	"context"
	"errors"

	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/tracking"
)

// jobRuns gives every job an MLflow run in its project's experiment
// ("<team>/<project>", made on first use), so that what the job logs —
// metrics, the model — is tied to the job with no user code: the job gets
// MLFLOW_RUN_ID, and mlflow.start_run() continues that run.
type jobRuns struct{ tracking *tracking.Service }

var _ jobs.Runs = jobRuns{}

// system acts for mlportal itself in the team's experiments.
func (jobRuns) system(j jobs.Job) identity.Principal {
	return identity.Principal{Subject: "job:" + j.ID, Kind: identity.KindAdminToken, Admin: true}
}

func (r jobRuns) StartRun(ctx context.Context, j jobs.Job) (jobs.RunRef, error) {
	p := r.system(j)
	if j.RunID != "" { // a retry or resume continues the same run
		run, err := r.tracking.GetRun(ctx, p, j.RunID)
		if err == nil {
			exp, err := r.tracking.GetExperiment(ctx, p, run.Info.ExperimentID)
			return jobs.RunRef{ExperimentID: run.Info.ExperimentID, ExperimentName: exp.Name, RunID: run.Info.ID,
				ArtifactURI: run.Info.ArtifactURI}, err
		}
		if !errors.Is(err, fault.ErrNotFound) {
			return jobs.RunRef{}, err
		}
	}
	expID, name, err := r.experiment(ctx, j)
	if err != nil {
		return jobs.RunRef{}, err
	}
	run, err := r.tracking.CreateRun(ctx, p, runRequest(expID, j))
	if err != nil {
		return jobs.RunRef{}, err
	}
	return jobs.RunRef{ExperimentID: run.Info.ExperimentID, ExperimentName: name, RunID: run.Info.ID, ArtifactURI: run.Info.ArtifactURI}, nil
}

var _ jobs.BatchRuns = jobRuns{}

// StartRuns creates the runs of jobs that have none, one transaction per
// project: a cycle admits hundreds of jobs at once.
func (r jobRuns) StartRuns(ctx context.Context, js []jobs.Job) ([]jobs.RunRef, error) {
	refs := make([]jobs.RunRef, len(js))
	byProject := map[string][]int{}
	for i, j := range js {
		byProject[j.Team+"/"+j.Project] = append(byProject[j.Team+"/"+j.Project], i)
	}
	for _, idx := range byProject {
		first := js[idx[0]]
		expID, name, err := r.experiment(ctx, first)
		if err != nil {
			return nil, err
		}
		reqs := make([]tracking.CreateRunRequest, len(idx))
		for k, i := range idx {
			reqs[k] = runRequest(expID, js[i])
		}
		runs, err := r.tracking.CreateRuns(ctx, r.system(first), expID, reqs)
		if err != nil {
			return nil, err
		}
		for k, i := range idx {
			refs[i] = jobs.RunRef{ExperimentID: runs[k].Info.ExperimentID, ExperimentName: name, RunID: runs[k].Info.ID,
				ArtifactURI: runs[k].Info.ArtifactURI}
		}
	}
	return refs, nil
}

// experiment is the id and name of j's project's experiment
// ("<team>/<project>"), made on first use.
func (r jobRuns) experiment(ctx context.Context, j jobs.Job) (string, string, error) {
	p := r.system(j)
	name := j.Team + "/" + j.Project
	exp, err := r.tracking.GetExperimentByName(ctx, p, name)
	expID := exp.ID
	if errors.Is(err, fault.ErrNotFound) {
		expID, err = r.tracking.CreateExperiment(ctx, p, name, "", []tracking.Tag{{Key: tracking.TagTeam, Value: j.Team},
			{Key: "mlportal.project", Value: j.Project}})
		if errors.Is(err, fault.ErrAlreadyExists) { // made meanwhile by another job
			exp, err = r.tracking.GetExperimentByName(ctx, p, name)
			expID = exp.ID
		}
	}
	return expID, name, err
}

// runRequest is j's run in the experiment expID.
func runRequest(expID string, j jobs.Job) tracking.CreateRunRequest {
	return tracking.CreateRunRequest{ExperimentID: expID, UserID: j.CreatedBy, Name: j.Name,
		Tags: []tracking.Tag{{Key: "mlportal.job", Value: j.ID}, {Key: "mlportal.project", Value: j.Project},
			{Key: "mlflow.source.type", Value: "JOB"}, {Key: "mlflow.source.name", Value: j.Project}, {Key: "mlflow.user", Value: j.CreatedBy}}}
}

func (r jobRuns) EndRun(ctx context.Context, j jobs.Job) error {
	status := tracking.StatusFailed
	switch j.State {
	case jobs.StateSucceeded:
		status = tracking.StatusFinished
	case jobs.StateCancelled:
		status = tracking.StatusKilled
	}
	_, err := r.tracking.UpdateRun(ctx, r.system(j), j.RunID, status, j.FinishedAt.UnixMilli(), "")
	return err
}
