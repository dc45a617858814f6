package mlflowremote

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/fault"
	c "github.com/mlportal/mlportal/internal/mlflowclient"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/tracking"
)

// historyPrefix starts the registered-model tags holding promotion history.
const historyPrefix = "mlportal.history."

// Version tags keeping what mlportal registered: the client's source and
// the artifact URI (in mlportal's store) it resolves to.
const (
	TagSource          = "mlportal.source"
	TagStorageLocation = "mlportal.storage_location"
)

func isHistoryTag(k string) bool { return strings.HasPrefix(k, historyPrefix) }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Registry is modelregistry.Repository over a remote MLflow server. Run
// and logged-model ids are translated through the Tracking it is given.
type Registry struct {
	c   *c.Client
	trk *Tracking
}

var _ modelregistry.Repository = (*Registry)(nil)

// NewRegistry returns the registry repository backed by client.
func NewRegistry(client *c.Client, trk *Tracking) *Registry { return &Registry{c: client, trk: trk} }

func (r *Registry) model(ctx context.Context, m c.RegisteredModel) modelregistry.RegisteredModel {
	team := tagValue(m.Tags, tracking.TagTeam)
	out := modelregistry.RegisteredModel{Name: m.Name, Team: team, Description: m.Description, CreationTime: int64(m.CreationTimestamp),
		LastUpdatedTime: int64(m.LastUpdatedTimestamp), Tags: fromTags(m.Tags)}
	for _, a := range m.Aliases {
		out.Aliases = append(out.Aliases, modelregistry.Alias{Alias: a.Alias, Version: c.ParseVersion(a.Version)})
	}
	for _, v := range m.LatestVersions {
		out.LatestVersions = append(out.LatestVersions, r.version(ctx, v, team))
	}
	return out
}

func (r *Registry) version(ctx context.Context, v c.ModelVersion, team string) modelregistry.ModelVersion {
	return modelregistry.ModelVersion{Name: v.Name, Version: c.ParseVersion(v.Version), CreationTime: int64(v.CreationTimestamp),
		LastUpdatedTime: int64(v.LastUpdatedTimestamp), UserID: v.UserID, CurrentStage: v.CurrentStage, Description: v.Description,
		Source: or(tagValue(v.Tags, TagSource), v.Source), StorageLocation: or(tagValue(v.Tags, TagStorageLocation), v.Source), RunID: r.trk.localRunOf(ctx, v.RunID), RunLink: v.RunLink,
		ModelID: r.trk.localModelOf(ctx, v.ModelID), Status: v.Status, StatusMessage: v.StatusMessage, Tags: fromTags(v.Tags),
		Aliases: v.Aliases, Team: team}
}

func (r *Registry) teamOf(ctx context.Context, name string) (string, error) {
	m, err := r.c.GetRegisteredModel(ctx, name)
	return tagValue(m.Tags, tracking.TagTeam), err
}

// CreateRegisteredModel creates the model on the server.
func (r *Registry) CreateRegisteredModel(ctx context.Context, m modelregistry.RegisteredModel) error {
	_, err := r.c.CreateRegisteredModel(ctx, m.Name, m.Description, tags(m.Tags))
	return err
}

// GetRegisteredModel reads a model.
func (r *Registry) GetRegisteredModel(ctx context.Context, name string) (modelregistry.RegisteredModel, error) {
	m, err := r.c.GetRegisteredModel(ctx, name)
	if err != nil {
		return modelregistry.RegisteredModel{}, err
	}
	return r.model(ctx, m), nil
}

// RenameRegisteredModel renames on the server.
func (r *Registry) RenameRegisteredModel(ctx context.Context, name, newName string, _ int64) error {
	return r.c.RenameRegisteredModel(ctx, name, newName)
}

// UpdateRegisteredModel sets the description on the server.
func (r *Registry) UpdateRegisteredModel(ctx context.Context, name, description string, _ int64) error {
	return r.c.UpdateRegisteredModel(ctx, name, description)
}

// DeleteRegisteredModel deletes on the server (its history goes with it).
func (r *Registry) DeleteRegisteredModel(ctx context.Context, name string) error {
	return r.c.DeleteRegisteredModel(ctx, name)
}

// SearchRegisteredModels searches on the server.
func (r *Registry) SearchRegisteredModels(ctx context.Context, q modelregistry.ModelQuery) ([]modelregistry.RegisteredModel, string, error) {
	ms, next, err := r.c.SearchRegisteredModels(ctx, c.SearchRequest{Filter: filterString(q.Filter, nil), OrderBy: orderStrings(q.OrderBy),
		MaxResults: int64(q.MaxResults), PageToken: q.PageToken})
	out := make([]modelregistry.RegisteredModel, 0, len(ms))
	for _, m := range ms {
		out = append(out, r.model(ctx, m))
	}
	return out, next, err
}

// SetRegisteredModelTag sets a tag on the server.
func (r *Registry) SetRegisteredModelTag(ctx context.Context, name string, t tracking.Tag, _ int64) error {
	return r.c.SetRegisteredModelTag(ctx, name, c.Tag{Key: t.Key, Value: t.Value})
}

// DeleteRegisteredModelTag removes a tag on the server.
func (r *Registry) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return r.c.DeleteRegisteredModelTag(ctx, name, key)
}

// CreateModelVersion registers the version on the server with its
// resolved artifact URI as source (the server numbers it) and records ev.
func (r *Registry) CreateModelVersion(ctx context.Context, v modelregistry.ModelVersion, ev modelregistry.Event) (modelregistry.ModelVersion, error) {
	req := c.CreateModelVersionRequest{Name: v.Name, Source: v.StorageLocation, Tags: tags(v.Tags), RunLink: v.RunLink, Description: v.Description}
	var err error
	if v.RunID != "" {
		if req.RunID, err = r.trk.remoteRunID(ctx, v.RunID); err != nil {
			return v, err
		}
	}
	if v.ModelID != "" {
		// MLflow 3 wants the source inside the logged model it names.
		lm, err := r.trk.remoteModel(ctx, v.ModelID)
		if err != nil {
			return v, err
		}
		req.ModelID, req.Source = lm.Info.ModelID, lm.Info.ArtifactURI
	}
	req.Tags = append(req.Tags, c.Tag{Key: TagSource, Value: v.Source}, c.Tag{Key: TagStorageLocation, Value: v.StorageLocation})
	mv, err := r.c.CreateModelVersion(ctx, req)
	if err != nil {
		return v, err
	}
	out := r.version(ctx, mv, v.Team)
	ev.Version = out.Version
	return out, r.record(ctx, v.Name, ev)
}

// GetModelVersion reads a version.
func (r *Registry) GetModelVersion(ctx context.Context, name string, version int64) (modelregistry.ModelVersion, error) {
	team, err := r.teamOf(ctx, name)
	if err != nil {
		return modelregistry.ModelVersion{}, err
	}
	mv, err := r.c.GetModelVersion(ctx, name, version)
	if err != nil {
		return modelregistry.ModelVersion{}, err
	}
	return r.version(ctx, mv, team), nil
}

// UpdateModelVersion sets the description on the server.
func (r *Registry) UpdateModelVersion(ctx context.Context, name string, version int64, description string, _ int64) error {
	return r.c.UpdateModelVersion(ctx, name, version, description)
}

// DeleteModelVersion deletes on the server and records ev.
func (r *Registry) DeleteModelVersion(ctx context.Context, name string, version int64, ev modelregistry.Event) error {
	if err := r.c.DeleteModelVersion(ctx, name, version); err != nil {
		return err
	}
	return r.record(ctx, name, ev)
}

// TransitionStage moves the version on the server and records the move
// (and the archiving of the others) in the model's history.
func (r *Registry) TransitionStage(ctx context.Context, name string, version int64, stage string, archiveExisting bool, ev modelregistry.Event) error {
	cur, err := r.c.GetModelVersion(ctx, name, version)
	if err != nil {
		return err
	}
	var others []int64
	if archiveExisting {
		vs, err := r.allVersions(ctx, name)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if n := c.ParseVersion(v.Version); n != version && v.CurrentStage == stage {
				others = append(others, n)
			}
		}
	}
	if _, err := r.c.TransitionStage(ctx, name, version, stage, archiveExisting); err != nil {
		return err
	}
	var evs []modelregistry.Event
	for _, v := range others {
		arch := ev
		arch.Version, arch.From, arch.To = v, stage, modelregistry.StageArchived
		arch.Reason = fmt.Sprintf("archived when version %d moved to %s", version, stage)
		evs = append(evs, arch)
	}
	ev.From = cur.CurrentStage
	return r.record(ctx, name, append(evs, ev)...)
}

func (r *Registry) allVersions(ctx context.Context, name string) ([]c.ModelVersion, error) {
	var all []c.ModelVersion
	token := ""
	for {
		vs, next, err := r.c.SearchModelVersions(ctx, c.SearchRequest{Filter: "name = " + quote(name), PageToken: token})
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
		if next == "" {
			return all, nil
		}
		token = next
	}
}

// SearchModelVersions searches on the server; run ids are translated.
func (r *Registry) SearchModelVersions(ctx context.Context, q modelregistry.VersionQuery) ([]modelregistry.ModelVersion, string, error) {
	filter := filterString(q.Filter, func(k, v string) string {
		if k == "run_id" {
			if rid, ok := r.trk.runs.remote(v); ok {
				return rid
			}
		}
		return v
	})
	vs, next, err := r.c.SearchModelVersions(ctx, c.SearchRequest{Filter: filter, OrderBy: orderStrings(q.OrderBy),
		MaxResults: int64(q.MaxResults), PageToken: q.PageToken})
	if err != nil {
		return nil, "", err
	}
	teams := map[string]string{}
	out := make([]modelregistry.ModelVersion, 0, len(vs))
	for _, v := range vs {
		team, ok := teams[v.Name]
		if !ok {
			team, _ = r.teamOf(ctx, v.Name)
			teams[v.Name] = team
		}
		out = append(out, r.version(ctx, v, team))
	}
	return out, next, nil
}

// LatestVersions reads the newest version of each stage.
func (r *Registry) LatestVersions(ctx context.Context, name string, stages []string) ([]modelregistry.ModelVersion, error) {
	team, err := r.teamOf(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := r.c.LatestVersions(ctx, name, stages)
	out := make([]modelregistry.ModelVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, r.version(ctx, v, team))
	}
	return out, err
}

// SetModelVersionTag sets a version tag on the server.
func (r *Registry) SetModelVersionTag(ctx context.Context, name string, version int64, t tracking.Tag, _ int64) error {
	return r.c.SetModelVersionTag(ctx, name, version, c.Tag{Key: t.Key, Value: t.Value})
}

// DeleteModelVersionTag removes a version tag on the server.
func (r *Registry) DeleteModelVersionTag(ctx context.Context, name string, version int64, key string) error {
	return r.c.DeleteModelVersionTag(ctx, name, version, key)
}

func aliasVersion(m c.RegisteredModel, alias string) string {
	for _, a := range m.Aliases {
		if a.Alias == alias {
			return a.Version
		}
	}
	return ""
}

// SetAlias points the alias on the server and records the move.
func (r *Registry) SetAlias(ctx context.Context, name, alias string, version int64, ev modelregistry.Event) error {
	m, err := r.c.GetRegisteredModel(ctx, name)
	if err != nil {
		return err
	}
	if err := r.c.SetAlias(ctx, name, alias, version); err != nil {
		return err
	}
	ev.From = aliasVersion(m, alias)
	return r.record(ctx, name, ev)
}

// DeleteAlias removes the alias on the server and records it; a missing
// alias is not an error, as in MLflow.
func (r *Registry) DeleteAlias(ctx context.Context, name, alias string, ev modelregistry.Event) error {
	m, err := r.c.GetRegisteredModel(ctx, name)
	if err != nil {
		return err
	}
	prev := aliasVersion(m, alias)
	if prev == "" {
		return nil
	}
	if err := r.c.DeleteAlias(ctx, name, alias); err != nil {
		return err
	}
	ev.From = prev
	return r.record(ctx, name, ev)
}

// GetVersionByAlias resolves an alias on the server.
func (r *Registry) GetVersionByAlias(ctx context.Context, name, alias string) (modelregistry.ModelVersion, error) {
	team, err := r.teamOf(ctx, name)
	if err != nil {
		return modelregistry.ModelVersion{}, err
	}
	mv, err := r.c.GetVersionByAlias(ctx, name, alias)
	if err != nil {
		return modelregistry.ModelVersion{}, err
	}
	return r.version(ctx, mv, team), nil
}

// events reads a model's history tags, oldest first.
func (r *Registry) events(ctx context.Context, name string) ([]modelregistry.Event, error) {
	m, err := r.c.GetRegisteredModel(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []modelregistry.Event
	for _, t := range m.Tags {
		if !isHistoryTag(t.Key) {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(t.Key, historyPrefix), 10, 64)
		if err != nil {
			continue
		}
		var e modelregistry.Event
		if err := json.Unmarshal([]byte(t.Value), &e); err != nil {
			return nil, fault.New(fault.ErrConflict, "registered model %q has a malformed history tag %s: delete it on the MLflow server", name, t.Key)
		}
		e.ID, e.Model = id, name
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// record appends events to the model's history tags. Two writers racing
// on one model can lose an event: the remote has no transaction to take.
func (r *Registry) record(ctx context.Context, name string, evs ...modelregistry.Event) error {
	have, err := r.events(ctx, name)
	if err != nil {
		return err
	}
	next := int64(1)
	if len(have) > 0 {
		next = have[len(have)-1].ID + 1
	}
	for _, e := range evs {
		e.ID = 0
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := r.c.SetRegisteredModelTag(ctx, name, c.Tag{Key: fmt.Sprintf("%s%06d", historyPrefix, next), Value: string(b)}); err != nil {
			return fmt.Errorf("record promotion history of %q: %w", name, err)
		}
		next++
	}
	return nil
}

// History returns the model's events after afterID.
func (r *Registry) History(ctx context.Context, name string, afterID int64, limit int) ([]modelregistry.Event, error) {
	all, err := r.events(ctx, name)
	if err != nil {
		return nil, err
	}
	out := []modelregistry.Event{}
	for _, e := range all {
		if e.ID > afterID && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}
