package models

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/mlportal/mlportal/internal/artifact"
	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/datasets"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/tracking"
)

// Registry reads the model registry. Models come with their tags, aliases
// and latest versions; missing ones are fault.ErrNotFound.
type Registry interface {
	// ListModels returns up to limit models after the name `after`, by name.
	ListModels(ctx context.Context, f Filter, after string, limit int) ([]modelregistry.RegisteredModel, error)
	GetRegisteredModel(ctx context.Context, name string) (modelregistry.RegisteredModel, error)
	// ListModelVersions returns up to limit versions below `before`
	// (0: from the newest), newest first.
	ListModelVersions(ctx context.Context, name string, before int64, limit int) ([]modelregistry.ModelVersion, error)
	GetModelVersion(ctx context.Context, name string, version int64) (modelregistry.ModelVersion, error)
	History(ctx context.Context, name string, afterID int64, limit int) ([]modelregistry.Event, error)
}

// Runs reads runs for a page of versions at once.
type Runs interface {
	// GetRuns returns the runs that exist among ids with their params,
	// latest metrics, dataset inputs and the tags named in tagKeys.
	GetRuns(ctx context.Context, ids []string, tagKeys ...string) ([]tracking.Run, error)
	// LoggedModelRuns maps logged model ids to the runs that made them.
	LoggedModelRuns(ctx context.Context, modelIDs []string) (map[string]string, error)
}

// FactStore caches what versions' artifacts say.
type FactStore interface {
	ModelFacts(ctx context.Context, keys []VersionKey) (map[VersionKey]Facts, error)
	PutModelFacts(ctx context.Context, f Facts) error
}

// Approvals keeps versions' approvals; a version without one is pending.
type Approvals interface {
	Approvals(ctx context.Context, keys []VersionKey) (map[VersionKey]Approval, error)
	// SetApproval records a and ev (its From filled with the previous
	// status); fault.ErrNotFound when the version does not exist.
	SetApproval(ctx context.Context, key VersionKey, a Approval, ev modelregistry.Event) error
}

// Artifacts reads the artifact store.
type Artifacts interface {
	Open(ctx context.Context, path string) (io.ReadCloser, artifact.Object, error)
	Stat(ctx context.Context, path string) (artifact.Object, error)
}

// Code is where a job's code came from.
type Code struct {
	Repository string
	Commit     string // a commit, or the branch or tag the job ran
}

// CodeSources finds the code of mlportal jobs.
type CodeSources interface {
	JobCode(ctx context.Context, jobIDs []string) (map[string]Code, error)
}

// DatasetMatcher matches runs' logged inputs to registered dataset versions.
type DatasetMatcher interface {
	MatchInputs(ctx context.Context, inputs map[string][]tracking.DatasetInput) (map[string][]datasets.Ref, error)
}

// Config holds a Service's collaborators. Artifacts, Code and Datasets may
// be nil: versions then lack what they would have told.
type Config struct {
	Registry  Registry
	Runs      Runs
	Facts     FactStore
	Approvals Approvals
	Artifacts Artifacts
	Code      CodeSources
	Datasets  DatasetMatcher
	Teams     tracking.Teams
	Clock     clock.Clock
	Log       *slog.Logger
}

// Service is the registry view.
type Service struct{ Config }

// NewService returns the service.
func NewService(c Config) *Service {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{Config: c}
}

// Run tags mlportal reads.
const (
	TagJob         = "mlportal.job"
	TagProject     = "mlportal.project"
	TagImageDigest = "mlportal.image.digest"
	TagGitRepo     = "mlflow.source.git.repoURL"
	TagGitCommit   = "mlflow.source.git.commit"
)

// ListModels returns a page of models by name.
func (s *Service) ListModels(ctx context.Context, p identity.Principal, f Filter, page pagination.Page) ([]Model, string, error) {
	if err := tracking.CanRead(p); err != nil {
		return nil, "", err
	}
	if page.Limit <= 0 {
		page.Limit = pagination.DefaultLimit
	}
	rms, err := s.Registry.ListModels(ctx, f, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	keep, next := pagination.Next(len(rms), page.Limit, func(i int) string { return rms[i].Name })
	rms = rms[:keep]
	var all []modelregistry.ModelVersion
	for _, m := range rms {
		all = append(all, m.LatestVersions...)
	}
	vs, err := s.enrich(ctx, all)
	if err != nil {
		return nil, "", err
	}
	out := make([]Model, len(rms))
	i := 0
	for n, m := range rms {
		out[n] = s.model(m, vs[i:i+len(m.LatestVersions)])
		i += len(m.LatestVersions)
	}
	return out, next, nil
}

// GetModel returns one model.
func (s *Service) GetModel(ctx context.Context, p identity.Principal, name string) (Model, error) {
	if err := tracking.CanRead(p); err != nil {
		return Model{}, err
	}
	rm, err := s.Registry.GetRegisteredModel(ctx, name)
	if err != nil {
		return Model{}, err
	}
	vs, err := s.enrich(ctx, rm.LatestVersions)
	if err != nil {
		return Model{}, err
	}
	return s.model(rm, vs), nil
}

// ListVersions returns a page of a model's versions, newest first.
func (s *Service) ListVersions(ctx context.Context, p identity.Principal, name string, page pagination.Page) ([]Version, string, error) {
	if err := tracking.CanRead(p); err != nil {
		return nil, "", err
	}
	if _, err := s.Registry.GetRegisteredModel(ctx, name); err != nil {
		return nil, "", err
	}
	var before int64
	if page.After != "" {
		v, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil {
			return nil, "", fault.Invalid("pageToken is not a token this server issued", fault.Field("pageToken", "pass the nextPageToken of the previous page unchanged"))
		}
		before = v
	}
	if page.Limit <= 0 {
		page.Limit = pagination.DefaultLimit
	}
	mvs, err := s.Registry.ListModelVersions(ctx, name, before, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	keep, next := pagination.Next(len(mvs), page.Limit, func(i int) string { return strconv.FormatInt(mvs[i].Version, 10) })
	vs, err := s.enrich(ctx, mvs[:keep])
	return vs, next, err
}

// GetVersion returns one version.
func (s *Service) GetVersion(ctx context.Context, p identity.Principal, name string, version int64) (Version, error) {
	if err := tracking.CanRead(p); err != nil {
		return Version{}, err
	}
	mv, err := s.Registry.GetModelVersion(ctx, name, version)
	if err != nil {
		return Version{}, err
	}
	vs, err := s.enrich(ctx, []modelregistry.ModelVersion{mv})
	if err != nil {
		return Version{}, err
	}
	return vs[0], nil
}

// allVersions returns every version of a model, newest first, enriched.
func (s *Service) allVersions(ctx context.Context, name string) ([]Version, error) {
	const batch = 500
	var out []Version
	var before int64
	for {
		mvs, err := s.Registry.ListModelVersions(ctx, name, before, batch)
		if err != nil {
			return nil, err
		}
		vs, err := s.enrich(ctx, mvs)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
		if len(mvs) < batch {
			return out, nil
		}
		before = mvs[len(mvs)-1].Version
	}
}

// stageRank orders stages for Model.Stage.
var stageRank = map[string]int{modelregistry.StageArchived: 1, modelregistry.StageNone: 2, modelregistry.StageStaging: 3, modelregistry.StageProduction: 4}

// model assembles the view of rm from its enriched latest versions.
func (s *Service) model(rm modelregistry.RegisteredModel, latest []Version) Model {
	m := Model{Name: rm.Name, Team: rm.Team, Description: rm.Description, Aliases: map[string]int64{}, LatestVersions: latest,
		Deployments: []Deployment{}, Tags: map[string]string{}, CreatedAt: millis(rm.CreationTime), UpdatedAt: millis(rm.LastUpdatedTime)}
	for _, t := range rm.Tags {
		m.Tags[t.Key] = t.Value
	}
	for _, a := range rm.Aliases {
		m.Aliases[a.Alias] = a.Version
	}
	if m.LatestVersions == nil {
		m.LatestVersions = []Version{}
	}
	var newest *Version
	for i := range latest {
		v := &latest[i]
		if stageRank[v.Stage] > stageRank[m.Stage] {
			m.Stage = v.Stage
		}
		if newest == nil || v.Version > newest.Version {
			newest = v
		}
	}
	m.Project = m.Tags[TagProject]
	if newest != nil {
		m.Framework, m.ExperimentID = newest.Framework, newest.ExperimentID
		if m.Project == "" {
			m.Project = newest.Project
		}
	}
	return m
}

func millis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
