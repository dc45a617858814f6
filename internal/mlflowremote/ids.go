package mlflowremote

import (
	"context"
	"errors"
	"sync"

	"github.com/mlportal/mlportal/internal/fault"
	c "github.com/mlportal/mlportal/internal/mlflowclient"
	"github.com/mlportal/mlportal/internal/tracking"
)

// Tags that carry mlportal's ids on the remote entities.
const (
	TagRunID   = "mlportal.run_id"
	TagModelID = "mlportal.model_id"
)

// idMap translates mlportal ids to MLflow's and back; entries are learnt
// from every entity read or created.
type idMap struct {
	mu       sync.RWMutex
	toRemote map[string]string
	toLocal  map[string]string
}

func newIDMap() *idMap {
	return &idMap{toRemote: map[string]string{}, toLocal: map[string]string{}}
}

func (m *idMap) learn(local, remote string) {
	m.mu.Lock()
	m.toRemote[local], m.toLocal[remote] = remote, local
	m.mu.Unlock()
}

func (m *idMap) remote(local string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.toRemote[local]
	return r, ok
}

func (m *idMap) local(remote string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	l, ok := m.toLocal[remote]
	return l, ok
}

func tagValue(tags []c.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// localRunID is the mlportal id of a remote run.
func (t *Tracking) localRunID(r c.Run) string {
	if l := tagValue(r.Data.Tags, TagRunID); l != "" {
		t.runs.learn(l, r.Info.RunID)
		return l
	}
	return r.Info.RunID
}

// localRunOf translates a remote run id met in another entity, reading the
// run when it is not known yet.
func (t *Tracking) localRunOf(ctx context.Context, remote string) string {
	if remote == "" {
		return ""
	}
	if l, ok := t.runs.local(remote); ok {
		return l
	}
	r, err := t.c.GetRun(ctx, remote)
	if err != nil {
		return remote
	}
	return t.localRunID(r)
}

// remoteRun returns the remote run an mlportal run id names: a known
// translation, a run of that id on the server (created there directly), or
// the run tagged with it.
func (t *Tracking) remoteRun(ctx context.Context, id string) (c.Run, error) {
	if r, ok := t.runs.remote(id); ok {
		return t.c.GetRun(ctx, r)
	}
	r, err := t.c.GetRun(ctx, id)
	if err == nil {
		t.localRunID(r)
		return r, nil
	}
	if !errors.Is(err, fault.ErrNotFound) {
		return r, err
	}
	exps, err := t.allExperimentIDs(ctx)
	if err != nil {
		return c.Run{}, err
	}
	for i := 0; i < len(exps); i += 100 {
		batch := exps[i:min(i+100, len(exps))]
		runs, _, err := t.c.SearchRuns(ctx, c.SearchRunsRequest{ExperimentIDs: batch, RunViewType: "ALL", MaxResults: 1,
			Filter: "tags.`" + TagRunID + "` = " + quote(id)})
		if err != nil {
			return c.Run{}, err
		}
		if len(runs) > 0 {
			t.localRunID(runs[0])
			return runs[0], nil
		}
	}
	return c.Run{}, fault.New(fault.ErrNotFound, "Run with id=%s not found", id)
}

func (t *Tracking) remoteRunID(ctx context.Context, id string) (string, error) {
	if r, ok := t.runs.remote(id); ok {
		return r, nil
	}
	r, err := t.remoteRun(ctx, id)
	return r.Info.RunID, err
}

func (t *Tracking) allExperimentIDs(ctx context.Context) ([]string, error) {
	var ids []string
	token := ""
	for {
		exps, next, err := t.c.SearchExperiments(ctx, c.SearchExperimentsRequest{ViewType: "ALL", PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range exps {
			ids = append(ids, e.ExperimentID)
		}
		if next == "" {
			return ids, nil
		}
		token = next
	}
}

func (t *Tracking) localModelID(m c.LoggedModel) string {
	if l := tagValue(m.Info.Tags, TagModelID); l != "" {
		t.models.learn(l, m.Info.ModelID)
		return l
	}
	return m.Info.ModelID
}

func (t *Tracking) localModelOf(ctx context.Context, remote string) string {
	if remote == "" {
		return ""
	}
	if l, ok := t.models.local(remote); ok {
		return l
	}
	m, err := t.c.GetLoggedModel(ctx, remote)
	if err != nil {
		return remote
	}
	return t.localModelID(m)
}

func (t *Tracking) remoteModel(ctx context.Context, id string) (c.LoggedModel, error) {
	if r, ok := t.models.remote(id); ok {
		return t.c.GetLoggedModel(ctx, r)
	}
	m, err := t.c.GetLoggedModel(ctx, id)
	if err == nil {
		t.localModelID(m)
		return m, nil
	}
	if !errors.Is(err, fault.ErrNotFound) {
		return m, err
	}
	exps, err := t.allExperimentIDs(ctx)
	if err != nil {
		return c.LoggedModel{}, err
	}
	for i := 0; i < len(exps); i += 100 {
		ms, _, err := t.c.SearchLoggedModels(ctx, c.SearchLoggedModelsRequest{ExperimentIDs: exps[i:min(i+100, len(exps))], MaxResults: 1,
			Filter: "tags.`" + TagModelID + "` = " + quote(id)})
		if err != nil {
			return c.LoggedModel{}, err
		}
		if len(ms) > 0 {
			t.localModelID(ms[0])
			return ms[0], nil
		}
	}
	return c.LoggedModel{}, fault.New(fault.ErrNotFound, "Logged model with ID '%s' not found.", id)
}

func (t *Tracking) remoteModelID(ctx context.Context, id string) (string, error) {
	if r, ok := t.models.remote(id); ok {
		return r, nil
	}
	m, err := t.remoteModel(ctx, id)
	return m.Info.ModelID, err
}

// team returns an experiment's owning team (cached: the tag cannot change).
func (t *Tracking) team(ctx context.Context, expID string) (string, error) {
	if v, ok := t.teams.Load(expID); ok {
		return v.(string), nil
	}
	e, err := t.c.GetExperiment(ctx, expID)
	if err != nil {
		return "", err
	}
	team := tagValue(e.Tags, tracking.TagTeam)
	t.teams.Store(expID, team)
	return team, nil
}
