package quota_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlportal/mlportal/internal/jobs"
	"github.com/mlportal/mlportal/internal/quota"
	"github.com/mlportal/mlportal/internal/team"
)

func job(id, project, gpuType string, gpus, replicas int, st jobs.State) jobs.Job {
	return jobs.Job{ID: id, Name: id + "-name", Team: "vision", Project: project, GPUType: gpuType, GPUs: gpus, Replicas: replicas, State: st}
}

func TestCompute(t *testing.T) {
	vision := team.Team{Name: "vision", GPUQuota: []team.GPUQuota{{GPUType: "a100", Nominal: 8, BorrowingLimit: 4}, {GPUType: "h100", Nominal: 4}}}
	tests := []struct {
		name string
		team team.Team
		held []jobs.Job
		want []quota.TypeUsage
	}{
		{name: "idle team", team: vision, want: []quota.TypeUsage{
			{GPUType: "a100", Nominal: 8, BorrowingLimit: 4, Available: 8},
			{GPUType: "h100", Nominal: 4, Available: 4},
		}},
		{name: "within nominal; replicas count; ended and queued jobs do not", team: vision, held: []jobs.Job{
			job("j1", "churn", "a100", 2, 2, jobs.StateRunning),
			job("j2", "churn", "a100", 1, 1, jobs.StateStarting),
			job("j3", "churn", "a100", 8, 1, jobs.StateQueued),
			job("j4", "churn", "a100", 8, 1, jobs.StateSucceeded),
			job("j5", "churn", "", 0, 1, jobs.StateRunning),
		}, want: []quota.TypeUsage{
			{GPUType: "a100", Nominal: 8, BorrowingLimit: 4, InUse: 5, Available: 3, Jobs: []quota.JobUse{
				{ID: "j1", Name: "j1-name", Project: "churn", GPUs: 4, State: jobs.StateRunning},
				{ID: "j2", Name: "j2-name", Project: "churn", GPUs: 1, State: jobs.StateStarting},
			}},
			{GPUType: "h100", Nominal: 4, Available: 4},
		}},
		{name: "borrowing beyond nominal, stopping jobs still hold", team: vision, held: []jobs.Job{
			job("j1", "churn", "h100", 4, 1, jobs.StateRunning),
			job("j2", "fraud", "h100", 2, 1, jobs.StateStopping),
		}, want: []quota.TypeUsage{
			{GPUType: "a100", Nominal: 8, BorrowingLimit: 4, Available: 8},
			{GPUType: "h100", Nominal: 4, InUse: 6, Borrowed: 2, Jobs: []quota.JobUse{
				{ID: "j1", Name: "j1-name", Project: "churn", GPUs: 4, State: jobs.StateRunning},
				{ID: "j2", Name: "j2-name", Project: "fraud", GPUs: 2, State: jobs.StateStopping},
			}},
		}},
		{name: "a type without quota is all borrowed", team: team.Team{Name: "vision"}, held: []jobs.Job{
			job("j1", "churn", "t4", 1, 1, jobs.StateRunning),
		}, want: []quota.TypeUsage{
			{GPUType: "t4", InUse: 1, Borrowed: 1, Jobs: []quota.JobUse{{ID: "j1", Name: "j1-name", Project: "churn", GPUs: 1, State: jobs.StateRunning}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, quota.Compute(tt.team, tt.held)); diff != "" {
				t.Errorf("Compute (-want +got):\n%s", diff)
			}
		})
	}
}
