package tracking

import (
	"context"
	"fmt"

	"github.com/mlportal/mlportal/internal/identity"
)

// CreateLoggedModelRequest is what creating a logged model takes.
type CreateLoggedModelRequest struct {
	ExperimentID string
	Name         string
	ModelType    string
	SourceRunID  string
	Params       []Param
	Tags         []Tag
}

// CreateLoggedModel starts a logged model (status pending) whose artifacts
// live under the experiment's models/<id>/artifacts.
func (s *Service) CreateLoggedModel(ctx context.Context, p identity.Principal, req CreateLoggedModelRequest) (LoggedModel, error) {
	if req.ExperimentID == "" {
		return LoggedModel{}, invalid("experiment_id", "missing value for required parameter 'experiment_id'")
	}
	e, err := s.writableExperiment(ctx, p, req.ExperimentID)
	if err != nil {
		return LoggedModel{}, err
	}
	if e.LifecycleStage != StageActive {
		return LoggedModel{}, invalid("experiment_id", "the experiment id '%s' must be in the 'active' state", e.ID)
	}
	if req.SourceRunID != "" {
		if _, err := s.repo.GetRunInfo(ctx, req.SourceRunID); err != nil {
			return LoggedModel{}, err
		}
	}
	for _, t := range req.Tags {
		if err := validTag(t); err != nil {
			return LoggedModel{}, err
		}
	}
	id := "m-" + s.newID()
	if req.Name == "" {
		req.Name = randomRunName()
	}
	now := s.now()
	m := LoggedModel{ID: id, ExperimentID: e.ID, Name: req.Name, ArtifactURI: fmt.Sprintf("%s/models/%s/artifacts", e.ArtifactLocation, id),
		Status: ModelPending, ModelType: req.ModelType, SourceRunID: req.SourceRunID, CreationTime: now, LastUpdateTime: now,
		LifecycleStage: StageActive, Tags: req.Tags, Params: req.Params, Team: e.Team}
	if err := s.repo.CreateLoggedModel(ctx, m); err != nil {
		return LoggedModel{}, err
	}
	return m, nil
}

// GetLoggedModel returns a logged model.
func (s *Service) GetLoggedModel(ctx context.Context, p identity.Principal, id string) (LoggedModel, error) {
	if err := CanRead(p); err != nil {
		return LoggedModel{}, err
	}
	return s.repo.GetLoggedModel(ctx, id)
}

func (s *Service) writableModel(ctx context.Context, p identity.Principal, id string) (LoggedModel, error) {
	m, err := s.repo.GetLoggedModel(ctx, id)
	if err != nil {
		return m, err
	}
	return m, AuthorizeWrite(ctx, s.teams, p, m.Team, "logged model "+id)
}

// FinalizeLoggedModel sets the upload outcome (ready or failed).
func (s *Service) FinalizeLoggedModel(ctx context.Context, p identity.Principal, id string, status LoggedModelStatus) (LoggedModel, error) {
	if status != ModelReady && status != ModelUploadFailed {
		return LoggedModel{}, invalid("status", "a logged model is finalized as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED, not %q", status)
	}
	if _, err := s.writableModel(ctx, p, id); err != nil {
		return LoggedModel{}, err
	}
	if err := s.repo.FinalizeLoggedModel(ctx, id, status, s.now()); err != nil {
		return LoggedModel{}, err
	}
	return s.repo.GetLoggedModel(ctx, id)
}

// SetLoggedModelTags sets tags on a logged model.
func (s *Service) SetLoggedModelTags(ctx context.Context, p identity.Principal, id string, tags []Tag) (LoggedModel, error) {
	for _, t := range tags {
		if err := validTag(t); err != nil {
			return LoggedModel{}, err
		}
	}
	if _, err := s.writableModel(ctx, p, id); err != nil {
		return LoggedModel{}, err
	}
	if err := s.repo.SetLoggedModelTags(ctx, id, tags, s.now()); err != nil {
		return LoggedModel{}, err
	}
	return s.repo.GetLoggedModel(ctx, id)
}

// DeleteLoggedModelTag removes a tag from a logged model.
func (s *Service) DeleteLoggedModelTag(ctx context.Context, p identity.Principal, id, key string) error {
	if _, err := s.writableModel(ctx, p, id); err != nil {
		return err
	}
	return s.repo.DeleteLoggedModelTag(ctx, id, key)
}

// DeleteLoggedModel marks a logged model deleted.
func (s *Service) DeleteLoggedModel(ctx context.Context, p identity.Principal, id string) error {
	if _, err := s.writableModel(ctx, p, id); err != nil {
		return err
	}
	return s.repo.DeleteLoggedModel(ctx, id, s.now())
}

// SearchLoggedModels returns a page of logged models of the experiments.
func (s *Service) SearchLoggedModels(ctx context.Context, p identity.Principal, q LoggedModelQuery) ([]LoggedModel, string, error) {
	if err := CanRead(p); err != nil {
		return nil, "", err
	}
	var err error
	if q.MaxResults, err = MaxResults(q.MaxResults, ModelsDefaultResults, SearchMaxResults); err != nil {
		return nil, "", err
	}
	for _, c := range q.Filter {
		switch c.Entity {
		case EntityTag, EntityParam:
			if err := checkOp(c, keyedOps); err != nil {
				return nil, "", err
			}
		case EntityMetric:
			if err := checkOp(c, numericOps); err != nil {
				return nil, "", err
			}
		case EntityAttribute:
			switch c.Key {
			case "name", "model_id", "status", "source_run_id", "model_type":
				if err := checkOp(c, stringOps); err != nil {
					return nil, "", err
				}
			case "creation_timestamp", "creation_time", "last_updated_timestamp":
				if err := checkOp(c, numericOps); err != nil {
					return nil, "", err
				}
			default:
				return nil, "", invalid("filter", "invalid logged model attribute '%s': use name, model_id, status, source_run_id, model_type or creation_timestamp", c.Key)
			}
		default:
			return nil, "", invalid("filter", "logged models cannot be filtered on %s keys", c.Entity)
		}
	}
	for _, id := range q.ExperimentIDs {
		if err := ExperimentID(id); err != nil {
			return nil, "", err
		}
	}
	return s.repo.SearchLoggedModels(ctx, q)
}
