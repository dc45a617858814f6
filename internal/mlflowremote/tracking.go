package mlflowremote

import (
	"context"
	"fmt"
	"sync"

	"github.com/mlportal/mlportal/internal/fault"
	c "github.com/mlportal/mlportal/internal/mlflowclient"
	"github.com/mlportal/mlportal/internal/tracking"
)

// Tracking is tracking.Repository over a remote MLflow server.
type Tracking struct {
	c      *c.Client
	runs   *idMap
	models *idMap
	teams  sync.Map // experiment id → team
}

var _ tracking.Repository = (*Tracking)(nil)

// NewTracking returns the tracking repository backed by client.
func NewTracking(client *c.Client) *Tracking {
	return &Tracking{c: client, runs: newIDMap(), models: newIDMap()}
}

func tags(ts []tracking.Tag) []c.Tag {
	out := make([]c.Tag, 0, len(ts))
	for _, t := range ts {
		out = append(out, c.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// fromTags converts tags, hiding mlportal's own bookkeeping tags.
func fromTags(ts []c.Tag) []tracking.Tag {
	out := make([]tracking.Tag, 0, len(ts))
	for _, t := range ts {
		if t.Key == TagRunID || t.Key == TagModelID || t.Key == TagSource || t.Key == TagStorageLocation || isHistoryTag(t.Key) {
			continue
		}
		out = append(out, tracking.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func params(ps []tracking.Param) []c.Param {
	out := make([]c.Param, 0, len(ps))
	for _, p := range ps {
		out = append(out, c.Param{Key: p.Key, Value: p.Value})
	}
	return out
}

func fromParams(ps []c.Param) []tracking.Param {
	out := make([]tracking.Param, 0, len(ps))
	for _, p := range ps {
		out = append(out, tracking.Param{Key: p.Key, Value: p.Value})
	}
	return out
}

func artifactRoot(expID string) string { return "mlflow-artifacts:/" + expID }

func experiment(e c.Experiment) tracking.Experiment {
	return tracking.Experiment{ID: e.ExperimentID, Name: e.Name, Team: tagValue(e.Tags, tracking.TagTeam),
		ArtifactLocation: artifactRoot(e.ExperimentID), LifecycleStage: e.LifecycleStage, CreationTime: int64(e.CreationTime),
		LastUpdateTime: int64(e.LastUpdateTime), Tags: fromTags(e.Tags)}
}

// CreateExperiment creates the experiment on the server; its artifacts
// live in mlportal's store under mlflow-artifacts:/<id>.
func (t *Tracking) CreateExperiment(ctx context.Context, e tracking.Experiment) (tracking.Experiment, error) {
	id, err := t.c.CreateExperiment(ctx, e.Name, "", tags(e.Tags))
	if err != nil {
		return e, err
	}
	e.ID, e.ArtifactLocation = id, artifactRoot(id)
	t.teams.Store(id, e.Team)
	return e, nil
}

// GetExperiment reads an experiment.
func (t *Tracking) GetExperiment(ctx context.Context, id string) (tracking.Experiment, error) {
	e, err := t.c.GetExperiment(ctx, id)
	return experiment(e), err
}

// GetExperimentByName reads an experiment by name.
func (t *Tracking) GetExperimentByName(ctx context.Context, name string) (tracking.Experiment, error) {
	e, err := t.c.GetExperimentByName(ctx, name)
	return experiment(e), err
}

// SearchExperiments searches on the server.
func (t *Tracking) SearchExperiments(ctx context.Context, q tracking.ExperimentQuery) ([]tracking.Experiment, string, error) {
	es, next, err := t.c.SearchExperiments(ctx, c.SearchExperimentsRequest{MaxResults: int64(q.MaxResults), PageToken: q.PageToken,
		Filter: filterString(q.Filter, nil), OrderBy: orderStrings(q.OrderBy), ViewType: viewType(q.View)})
	out := make([]tracking.Experiment, 0, len(es))
	for _, e := range es {
		out = append(out, experiment(e))
	}
	return out, next, err
}

// RenameExperiment renames on the server.
func (t *Tracking) RenameExperiment(ctx context.Context, id, name string, _ int64) error {
	return t.c.RenameExperiment(ctx, id, name)
}

// SetExperimentStage deletes or restores on the server.
func (t *Tracking) SetExperimentStage(ctx context.Context, id, stage string, _ int64) error {
	if stage == tracking.StageDeleted {
		return t.c.DeleteExperiment(ctx, id)
	}
	return t.c.RestoreExperiment(ctx, id)
}

// SetExperimentTag sets a tag on the server.
func (t *Tracking) SetExperimentTag(ctx context.Context, id string, tag tracking.Tag) error {
	return t.c.SetExperimentTag(ctx, id, c.Tag{Key: tag.Key, Value: tag.Value})
}

// DeleteExperimentTag removes a tag on the server.
func (t *Tracking) DeleteExperimentTag(ctx context.Context, id, key string) error {
	return t.c.DeleteExperimentTag(ctx, id, key)
}

func (t *Tracking) runInfo(ctx context.Context, r c.Run) (tracking.RunInfo, error) {
	team, err := t.team(ctx, r.Info.ExperimentID)
	id := t.localRunID(r)
	return tracking.RunInfo{ID: id, ExperimentID: r.Info.ExperimentID, Name: r.Info.RunName, UserID: r.Info.UserID,
		Status: tracking.RunStatus(r.Info.Status), StartTime: int64(r.Info.StartTime), EndTime: int64(r.Info.EndTime),
		ArtifactURI: artifactRoot(r.Info.ExperimentID) + "/" + id + "/artifacts", LifecycleStage: r.Info.LifecycleStage, Team: team}, err
}

func (t *Tracking) run(ctx context.Context, r c.Run) (tracking.Run, error) {
	info, err := t.runInfo(ctx, r)
	if err != nil {
		return tracking.Run{}, err
	}
	out := tracking.Run{Info: info, Params: fromParams(r.Data.Params), Tags: fromTags(r.Data.Tags)}
	for _, m := range r.Data.Metrics {
		out.Metrics = append(out.Metrics, t.metric(ctx, m, ""))
	}
	for _, d := range r.Inputs.DatasetInputs {
		out.Inputs = append(out.Inputs, tracking.DatasetInput{Tags: fromTags(d.Tags), Dataset: tracking.Dataset{Name: d.Dataset.Name,
			Digest: d.Dataset.Digest, SourceType: d.Dataset.SourceType, Source: d.Dataset.Source, Schema: d.Dataset.Schema, Profile: d.Dataset.Profile}})
	}
	for _, m := range r.Inputs.ModelInputs {
		out.ModelInputs = append(out.ModelInputs, t.localModelOf(ctx, m.ModelID))
	}
	for _, m := range r.Outputs.ModelOutputs {
		out.ModelOutputs = append(out.ModelOutputs, tracking.ModelOutput{ModelID: t.localModelOf(ctx, m.ModelID), Step: int64(m.Step)})
	}
	return out, nil
}

func (t *Tracking) metric(ctx context.Context, m c.Metric, runID string) tracking.Metric {
	out := tracking.Metric{Key: m.Key, Value: float64(m.Value), Timestamp: int64(m.Timestamp), Step: int64(m.Step),
		DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest, RunID: runID}
	if m.ModelID != "" {
		out.ModelID = t.localModelOf(ctx, m.ModelID)
	}
	return out
}

// CreateRun creates the run on the server, tagged with mlportal's id.
func (t *Tracking) CreateRun(ctx context.Context, r tracking.Run) error {
	rr, err := t.c.CreateRun(ctx, c.CreateRunRequest{ExperimentID: r.Info.ExperimentID, UserID: r.Info.UserID, RunName: r.Info.Name,
		StartTime: r.Info.StartTime, Tags: append(tags(r.Tags), c.Tag{Key: TagRunID, Value: r.Info.ID})})
	if err != nil {
		return err
	}
	t.runs.learn(r.Info.ID, rr.Info.RunID)
	return nil
}

// GetRun reads a run with its data.
func (t *Tracking) GetRun(ctx context.Context, id string) (tracking.Run, error) {
	r, err := t.remoteRun(ctx, id)
	if err != nil {
		return tracking.Run{}, err
	}
	return t.run(ctx, r)
}

// GetRunInfo reads a run's metadata.
func (t *Tracking) GetRunInfo(ctx context.Context, id string) (tracking.RunInfo, error) {
	r, err := t.remoteRun(ctx, id)
	if err != nil {
		return tracking.RunInfo{}, err
	}
	return t.runInfo(ctx, r)
}

// UpdateRun changes status, end time and name on the server.
func (t *Tracking) UpdateRun(ctx context.Context, id string, status tracking.RunStatus, endTime int64, name string) (tracking.RunInfo, error) {
	rid, err := t.remoteRunID(ctx, id)
	if err != nil {
		return tracking.RunInfo{}, err
	}
	if _, err := t.c.UpdateRun(ctx, rid, string(status), endTime, name); err != nil {
		return tracking.RunInfo{}, err
	}
	return t.GetRunInfo(ctx, id)
}

// SetRunStage deletes or restores a run on the server.
func (t *Tracking) SetRunStage(ctx context.Context, id, stage string, _ int64) error {
	rid, err := t.remoteRunID(ctx, id)
	if err != nil {
		return err
	}
	if stage == tracking.StageDeleted {
		return t.c.DeleteRun(ctx, rid)
	}
	return t.c.RestoreRun(ctx, rid)
}

// LogBatch checks params are not changed (MLflow answers that with a 500,
// which clients would retry) and writes the batch on the server.
func (t *Tracking) LogBatch(ctx context.Context, runID string, b tracking.Batch) error {
	r, err := t.remoteRun(ctx, runID)
	if err != nil {
		return err
	}
	if len(b.Params) > 0 {
		have := map[string]string{}
		for _, p := range r.Data.Params {
			have[p.Key] = p.Value
		}
		for _, p := range b.Params {
			if old, ok := have[p.Key]; ok && old != p.Value {
				msg := fmt.Sprintf("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.",
					p.Key, old, runID, p.Value)
				return fault.Invalid(msg, fault.Field("params", "%s", msg))
			}
		}
	}
	ms := make([]c.Metric, 0, len(b.Metrics))
	for _, m := range b.Metrics {
		cm := c.Metric{Key: m.Key, Value: c.Float(m.Value), Timestamp: c.Int64(m.Timestamp), Step: c.Int64(m.Step),
			DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest}
		if m.ModelID != "" {
			if cm.ModelID, err = t.remoteModelID(ctx, m.ModelID); err != nil {
				return err
			}
		}
		ms = append(ms, cm)
	}
	return t.c.LogBatch(ctx, r.Info.RunID, ms, params(b.Params), tags(b.Tags))
}

// DeleteRunTag removes a run's tag on the server.
func (t *Tracking) DeleteRunTag(ctx context.Context, runID, key string) error {
	rid, err := t.remoteRunID(ctx, runID)
	if err != nil {
		return err
	}
	return t.c.DeleteRunTag(ctx, rid, key)
}

// LogInputs records datasets and logged models a run used.
func (t *Tracking) LogInputs(ctx context.Context, runID string, ds []tracking.DatasetInput, modelIDs []string) error {
	rid, err := t.remoteRunID(ctx, runID)
	if err != nil {
		return err
	}
	in := make([]c.DatasetInput, 0, len(ds))
	for _, d := range ds {
		in = append(in, c.DatasetInput{Tags: tags(d.Tags), Dataset: c.Dataset{Name: d.Dataset.Name, Digest: d.Dataset.Digest,
			SourceType: d.Dataset.SourceType, Source: d.Dataset.Source, Schema: d.Dataset.Schema, Profile: d.Dataset.Profile}})
	}
	models := make([]c.ModelInput, 0, len(modelIDs))
	for _, id := range modelIDs {
		mid, err := t.remoteModelID(ctx, id)
		if err != nil {
			return err
		}
		models = append(models, c.ModelInput{ModelID: mid})
	}
	return t.c.LogInputs(ctx, rid, in, models)
}

// LogOutputs records logged models a run produced.
func (t *Tracking) LogOutputs(ctx context.Context, runID string, outs []tracking.ModelOutput) error {
	rid, err := t.remoteRunID(ctx, runID)
	if err != nil {
		return err
	}
	models := make([]c.ModelOutput, 0, len(outs))
	for _, o := range outs {
		mid, err := t.remoteModelID(ctx, o.ModelID)
		if err != nil {
			return err
		}
		models = append(models, c.ModelOutput{ModelID: mid, Step: c.Int64(o.Step)})
	}
	return t.c.LogOutputs(ctx, rid, models)
}

// MetricHistory reads a page of a metric's values.
func (t *Tracking) MetricHistory(ctx context.Context, runID, key string, maxResults int, pageToken string) ([]tracking.Metric, string, error) {
	rid, err := t.remoteRunID(ctx, runID)
	if err != nil {
		return nil, "", err
	}
	ms, next, err := t.c.MetricHistory(ctx, rid, key, maxResults, pageToken)
	out := make([]tracking.Metric, 0, len(ms))
	for _, m := range ms {
		out = append(out, t.metric(ctx, m, ""))
	}
	return out, next, err
}

// MetricHistoryBulk reads a metric's values across runs.
func (t *Tracking) MetricHistoryBulk(ctx context.Context, runIDs []string, key string, startStep, endStep *int64, maxResults int) ([]tracking.Metric, error) {
	rids := make([]string, 0, len(runIDs))
	for _, id := range runIDs {
		rid, err := t.remoteRunID(ctx, id)
		if err != nil {
			return nil, err
		}
		rids = append(rids, rid)
	}
	ms, err := t.c.MetricHistoryBulk(ctx, rids, key, startStep, endStep, maxResults)
	out := make([]tracking.Metric, 0, len(ms))
	for _, m := range ms {
		out = append(out, t.metric(ctx, m, t.localRunOf(ctx, m.RunID)))
	}
	return out, err
}

// SearchRuns searches on the server; run ids in the filter are translated.
func (t *Tracking) SearchRuns(ctx context.Context, q tracking.RunQuery) ([]tracking.Run, string, error) {
	filter := filterString(q.Filter, func(k, v string) string {
		if k == "run_id" || k == "run_uuid" {
			if r, ok := t.runs.remote(v); ok {
				return r
			}
		}
		return v
	})
	rs, next, err := t.c.SearchRuns(ctx, c.SearchRunsRequest{ExperimentIDs: q.ExperimentIDs, Filter: filter, RunViewType: viewType(q.View),
		MaxResults: int64(q.MaxResults), OrderBy: orderStrings(q.OrderBy), PageToken: q.PageToken})
	if err != nil {
		return nil, "", err
	}
	out := make([]tracking.Run, 0, len(rs))
	for _, r := range rs {
		run, err := t.run(ctx, r)
		if err != nil {
			return nil, "", err
		}
		out = append(out, run)
	}
	return out, next, nil
}
