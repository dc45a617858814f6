package models

import (
	"time"

	"github.com/mlportal/mlportal/internal/datasets"
)

// fixture is a model with three versions, a hostile description, tags and
// history: what the docs and lineage tests render.
func fixture() (Model, []Version, []Event) {
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	sig := &Signature{Inputs: []ColumnSpec{{Name: "age", Type: "double"}, {Name: "plan|tier", Type: "string", Optional: true}},
		Outputs: []ColumnSpec{{Type: "tensor:int64", Shape: []int{-1}}}}
	vs := []Version{
		{Model: "churn", Version: 3, Stage: "Staging", Aliases: []string{"challenger"}, RunID: "run3", JobID: "job_3", ExperimentID: "1",
			Framework: "sklearn", Digest: "sha256:" + "3", Signature: sig, Metrics: map[string]float64{"auc": 0.93, "rmse": 0.21},
			Params: map[string]string{"C": "1.0"}, Approval: Approval{Status: ApprovalPending}, CreatedAt: at.Add(2 * time.Hour), CreatedBy: "user:default/ada",
			Datasets:     []datasets.Ref{{Name: "churn-train", Version: 2, Quality: "passed", URI: "s3://data/churn.csv"}},
			Requirements: "mlflow==3.1.0\nscikit-learn==1.5.2\n", Conda: "name: env\nchannels: [conda-forge]\n", Description: "```rm -rf /``` <b>bold</b>"},
		{Model: "churn", Version: 2, Stage: "Production", Aliases: []string{"champion"}, RunID: "run2", ExperimentID: "1", Framework: "sklearn",
			Metrics: map[string]float64{"auc": 0.91}, Approval: Approval{Status: ApprovalApproved, By: "user:default/mia"}, CreatedAt: at.Add(time.Hour),
			Datasets: []datasets.Ref{{Name: "churn-train", Version: 1, Quality: "passed"}}},
		{Model: "churn", Version: 1, Stage: "Archived", Aliases: []string{}, Approval: Approval{Status: ApprovalRejected}, CreatedAt: at},
	}
	m := Model{Name: "churn", Team: "ml", Project: "churn", Framework: "sklearn", Stage: "Production", ExperimentID: "1",
		Description: "Predicts churn.\n\n# not a heading\n<script>alert(1)</script> [link](javascript:x) *bold* | pipe",
		Aliases:     map[string]int64{"champion": 2, "challenger": 3}, Deployments: []Deployment{},
		Tags: map[string]string{"owner": "ml-team", "note": "`code` & <html>"}, CreatedAt: at, UpdatedAt: at.Add(3 * time.Hour)}
	hist := []Event{
		{ID: 1, Kind: EventVersionCreated, Version: 1, Actor: "user:default/ada", At: at},
		{ID: 2, Kind: EventStageChanged, Version: 2, From: "None", To: "Production", Actor: "user:default/mia", Reason: "best | auc", At: at.Add(time.Hour)},
		{ID: 3, Kind: EventAliasSet, Alias: "champion", Version: 2, To: "2", Actor: "user:default/mia", At: at.Add(time.Hour)},
	}
	return m, vs, hist
}
