package mlflowremote

import (
	"context"

	c "github.com/mlportal/mlportal/internal/mlflowclient"
	"github.com/mlportal/mlportal/internal/tracking"
)

func (t *Tracking) loggedModel(ctx context.Context, m c.LoggedModel) (tracking.LoggedModel, error) {
	team, err := t.team(ctx, m.Info.ExperimentID)
	id := t.localModelID(m)
	out := tracking.LoggedModel{ID: id, ExperimentID: m.Info.ExperimentID, Name: m.Info.Name,
		ArtifactURI: artifactRoot(m.Info.ExperimentID) + "/models/" + id + "/artifacts", Status: tracking.LoggedModelStatus(m.Info.Status),
		StatusMessage: m.Info.StatusMessage, ModelType: m.Info.ModelType, SourceRunID: t.localRunOf(ctx, m.Info.SourceRunID),
		CreationTime: int64(m.Info.CreationTimestampMS), LastUpdateTime: int64(m.Info.LastUpdatedTimestampMS),
		LifecycleStage: tracking.StageActive, Tags: fromTags(m.Info.Tags), Params: fromParams(m.Data.Params), Team: team}
	for _, x := range m.Data.Metrics {
		out.Metrics = append(out.Metrics, t.metric(ctx, x, t.localRunOf(ctx, x.RunID)))
	}
	return out, err
}

// CreateLoggedModel creates the model on the server, tagged with mlportal's id.
func (t *Tracking) CreateLoggedModel(ctx context.Context, m tracking.LoggedModel) error {
	req := c.CreateLoggedModelRequest{ExperimentID: m.ExperimentID, Name: m.Name, ModelType: m.ModelType, Params: params(m.Params),
		Tags: append(tags(m.Tags), c.Tag{Key: TagModelID, Value: m.ID})}
	if m.SourceRunID != "" {
		var err error
		if req.SourceRunID, err = t.remoteRunID(ctx, m.SourceRunID); err != nil {
			return err
		}
	}
	lm, err := t.c.CreateLoggedModel(ctx, req)
	if err != nil {
		return err
	}
	t.models.learn(m.ID, lm.Info.ModelID)
	return nil
}

// GetLoggedModel reads a logged model.
func (t *Tracking) GetLoggedModel(ctx context.Context, id string) (tracking.LoggedModel, error) {
	m, err := t.remoteModel(ctx, id)
	if err != nil {
		return tracking.LoggedModel{}, err
	}
	return t.loggedModel(ctx, m)
}

// FinalizeLoggedModel sets the upload status on the server.
func (t *Tracking) FinalizeLoggedModel(ctx context.Context, id string, status tracking.LoggedModelStatus, _ int64) error {
	rid, err := t.remoteModelID(ctx, id)
	if err != nil {
		return err
	}
	_, err = t.c.FinalizeLoggedModel(ctx, rid, string(status))
	return err
}

// SetLoggedModelTags sets tags on the server.
func (t *Tracking) SetLoggedModelTags(ctx context.Context, id string, ts []tracking.Tag, _ int64) error {
	rid, err := t.remoteModelID(ctx, id)
	if err != nil {
		return err
	}
	return t.c.SetLoggedModelTags(ctx, rid, tags(ts))
}

// DeleteLoggedModelTag removes a tag on the server.
func (t *Tracking) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	rid, err := t.remoteModelID(ctx, id)
	if err != nil {
		return err
	}
	return t.c.DeleteLoggedModelTag(ctx, rid, key)
}

// DeleteLoggedModel deletes on the server.
func (t *Tracking) DeleteLoggedModel(ctx context.Context, id string, _ int64) error {
	rid, err := t.remoteModelID(ctx, id)
	if err != nil {
		return err
	}
	return t.c.DeleteLoggedModel(ctx, rid)
}

// SearchLoggedModels searches on the server.
func (t *Tracking) SearchLoggedModels(ctx context.Context, q tracking.LoggedModelQuery) ([]tracking.LoggedModel, string, error) {
	order := make([]c.OrderByField, 0, len(q.OrderBy))
	for _, o := range q.OrderBy {
		name := o.Key
		if o.Entity == tracking.EntityMetric {
			name = "metrics." + o.Key
		}
		order = append(order, c.OrderByField{FieldName: name, Ascending: !o.Desc})
	}
	filter := filterString(q.Filter, func(k, v string) string {
		if k == "model_id" {
			if r, ok := t.models.remote(v); ok {
				return r
			}
		}
		if k == "source_run_id" {
			if r, ok := t.runs.remote(v); ok {
				return r
			}
		}
		return v
	})
	ms, next, err := t.c.SearchLoggedModels(ctx, c.SearchLoggedModelsRequest{ExperimentIDs: q.ExperimentIDs, Filter: filter, OrderBy: order,
		MaxResults: int64(q.MaxResults), PageToken: q.PageToken})
	if err != nil {
		return nil, "", err
	}
	out := make([]tracking.LoggedModel, 0, len(ms))
	for _, m := range ms {
		lm, err := t.loggedModel(ctx, m)
		if err != nil {
			return nil, "", err
		}
		out = append(out, lm)
	}
	return out, next, nil
}
