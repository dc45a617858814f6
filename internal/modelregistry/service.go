package modelregistry

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/tracking"
)

// Repository persists the registry. Missing entities are fault.ErrNotFound,
// taken names fault.ErrAlreadyExists.
type Repository interface {
	CreateRegisteredModel(ctx context.Context, m RegisteredModel) error
	GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error)
	RenameRegisteredModel(ctx context.Context, name, newName string, now int64) error
	UpdateRegisteredModel(ctx context.Context, name, description string, now int64) error
	DeleteRegisteredModel(ctx context.Context, name string) error
	SearchRegisteredModels(ctx context.Context, q ModelQuery) ([]RegisteredModel, string, error)
	SetRegisteredModelTag(ctx context.Context, name string, t tracking.Tag, now int64) error
	DeleteRegisteredModelTag(ctx context.Context, name, key string) error

	// CreateModelVersion assigns the next version number and records ev
	// (its Version filled with that number).
	CreateModelVersion(ctx context.Context, v ModelVersion, ev Event) (ModelVersion, error)
	GetModelVersion(ctx context.Context, name string, version int64) (ModelVersion, error)
	UpdateModelVersion(ctx context.Context, name string, version int64, description string, now int64) error
	// DeleteModelVersion deletes a version and records ev.
	DeleteModelVersion(ctx context.Context, name string, version int64, ev Event) error
	// TransitionStage moves a version to a stage and records ev (its From
	// filled with the old stage); archiveExisting archives the other
	// versions in that stage, recording an event for each.
	TransitionStage(ctx context.Context, name string, version int64, stage string, archiveExisting bool, ev Event) error
	SearchModelVersions(ctx context.Context, q VersionQuery) ([]ModelVersion, string, error)
	LatestVersions(ctx context.Context, name string, stages []string) ([]ModelVersion, error)
	SetModelVersionTag(ctx context.Context, name string, version int64, t tracking.Tag, now int64) error
	DeleteModelVersionTag(ctx context.Context, name string, version int64, key string) error
	// SetAlias and DeleteAlias record ev, its From filled with the version
	// the alias pointed at before.
	SetAlias(ctx context.Context, name, alias string, version int64, ev Event) error
	DeleteAlias(ctx context.Context, name, alias string, ev Event) error
	GetVersionByAlias(ctx context.Context, name, alias string) (ModelVersion, error)
	History(ctx context.Context, name string, afterID int64, limit int) ([]Event, error)
}

// Sources resolves a version's source to its artifacts.
type Sources interface {
	GetRunInfo(ctx context.Context, id string) (tracking.RunInfo, error)
	GetLoggedModel(ctx context.Context, id string) (tracking.LoggedModel, error)
}

// DatasetGate refuses a version trained on data that failed its quality
// checks: CheckTrainingData returns a fault.ErrInvalid error naming the
// datasets and the failed checks when the run's inputs include such data.
type DatasetGate interface {
	CheckTrainingData(ctx context.Context, runID string) error
}

// Service is the model registry with authorization.
type Service struct {
	repo    Repository
	sources Sources
	teams   tracking.Teams
	clock   clock.Clock
	gate    DatasetGate
}

// Option configures a Service.
type Option func(*Service)

// WithDatasetGate makes CreateModelVersion ask g about the source run's
// training data before registering.
func WithDatasetGate(g DatasetGate) Option { return func(s *Service) { s.gate = g } }

// NewService returns the registry service.
func NewService(repo Repository, sources Sources, teams tracking.Teams, clk clock.Clock, opts ...Option) *Service {
	s := &Service{repo: repo, sources: sources, teams: teams, clock: clk}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return fault.Invalid(msg, fault.Field(field, "%s", msg))
}

// MLflow's registry limits.
const (
	MaxTagKeyLength   = 250
	MaxTagValueLength = 100_000
	MaxAliasLength    = 255
	ModelsDefault     = 100
	ModelsMax         = 1000
	VersionsDefault   = 10000
	VersionsMax       = 200_000
)

func validName(name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid("name", "registered model name cannot be empty")
	}
	if strings.Contains(name, "/") {
		return invalid("name", "invalid model name '%s': names may not contain '/'", name)
	}
	return nil
}

func validTag(t tracking.Tag) error {
	if t.Key == "" || len(t.Key) > MaxTagKeyLength {
		return invalid("key", "tag key must be 1 to %d characters, got %d", MaxTagKeyLength, len(t.Key))
	}
	if len(t.Value) > MaxTagValueLength {
		return invalid("value", "tag value for key '%s' exceeds %d characters", t.Key, MaxTagValueLength)
	}
	return nil
}

var aliasRE = regexp.MustCompile(`^[\w\-]*$`)

func validAlias(a string) error {
	if a == "" || len(a) > MaxAliasLength || !aliasRE.MatchString(a) {
		return invalid("alias", "invalid alias name '%s': use letters, digits, _ and -, at most %d characters", a, MaxAliasLength)
	}
	if strings.EqualFold(a, "latest") {
		return invalid("alias", "'latest' is reserved (it always means the newest version); choose another alias")
	}
	if len(a) > 1 && (a[0] == 'v' || a[0] == 'V') {
		if _, err := strconv.Atoi(a[1:]); err == nil {
			return invalid("alias", "alias '%s' looks like a version reference (v<number>); choose another alias", a)
		}
	}
	return nil
}

// ParseVersion parses a version number as MLflow sends it (a string).
func ParseVersion(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 {
		return 0, invalid("version", "model version must be a positive integer, got '%s'", v)
	}
	return n, nil
}

func (s *Service) writable(ctx context.Context, p identity.Principal, name string) (RegisteredModel, error) {
	if name == "" {
		return RegisteredModel{}, invalid("name", "missing value for required parameter 'name'")
	}
	m, err := s.repo.GetRegisteredModel(ctx, name)
	if err != nil {
		return m, err
	}
	return m, tracking.AuthorizeWrite(ctx, s.teams, p, m.Team, fmt.Sprintf("registered model %q", name))
}

// CreateRegisteredModel creates a model owned by the team the
// mlportal.team tag or the credential names.
func (s *Service) CreateRegisteredModel(ctx context.Context, p identity.Principal, name, description string, tags []tracking.Tag) (RegisteredModel, error) {
	if err := validName(name); err != nil {
		return RegisteredModel{}, err
	}
	for _, t := range tags {
		if err := validTag(t); err != nil {
			return RegisteredModel{}, err
		}
	}
	team, err := tracking.OwningTeam(ctx, s.teams, p, tags, fmt.Sprintf("registered model %q", name))
	if err != nil {
		return RegisteredModel{}, err
	}
	now := s.now()
	m := RegisteredModel{Name: name, Team: team, Description: description, CreationTime: now, LastUpdatedTime: now,
		Tags: setTag(tags, tracking.Tag{Key: tracking.TagTeam, Value: team})}
	if err := s.repo.CreateRegisteredModel(ctx, m); err != nil {
		if fe, ok := fault.As(err); ok && fe.Kind == fault.ErrAlreadyExists {
			return RegisteredModel{}, fault.New(fault.ErrAlreadyExists, "Registered Model (name=%s) already exists.", name)
		}
		return RegisteredModel{}, err
	}
	return m, nil
}

func setTag(tags []tracking.Tag, t tracking.Tag) []tracking.Tag {
	out := make([]tracking.Tag, 0, len(tags)+1)
	for _, x := range tags {
		if x.Key != t.Key {
			out = append(out, x)
		}
	}
	return append(out, t)
}

// GetRegisteredModel returns a model with its tags, aliases and latest versions.
func (s *Service) GetRegisteredModel(ctx context.Context, p identity.Principal, name string) (RegisteredModel, error) {
	if err := tracking.CanRead(p); err != nil {
		return RegisteredModel{}, err
	}
	if name == "" {
		return RegisteredModel{}, invalid("name", "missing value for required parameter 'name'")
	}
	return s.repo.GetRegisteredModel(ctx, name)
}

// RenameRegisteredModel renames a model; its versions follow.
func (s *Service) RenameRegisteredModel(ctx context.Context, p identity.Principal, name, newName string) (RegisteredModel, error) {
	if err := validName(newName); err != nil {
		return RegisteredModel{}, err
	}
	if _, err := s.writable(ctx, p, name); err != nil {
		return RegisteredModel{}, err
	}
	if err := s.repo.RenameRegisteredModel(ctx, name, newName, s.now()); err != nil {
		if fe, ok := fault.As(err); ok && fe.Kind == fault.ErrAlreadyExists {
			return RegisteredModel{}, fault.New(fault.ErrAlreadyExists, "Registered Model (name=%s) already exists.", newName)
		}
		return RegisteredModel{}, err
	}
	return s.repo.GetRegisteredModel(ctx, newName)
}

// UpdateRegisteredModel changes the description.
func (s *Service) UpdateRegisteredModel(ctx context.Context, p identity.Principal, name, description string) (RegisteredModel, error) {
	if _, err := s.writable(ctx, p, name); err != nil {
		return RegisteredModel{}, err
	}
	if err := s.repo.UpdateRegisteredModel(ctx, name, description, s.now()); err != nil {
		return RegisteredModel{}, err
	}
	return s.repo.GetRegisteredModel(ctx, name)
}

// DeleteRegisteredModel deletes a model and all its versions.
func (s *Service) DeleteRegisteredModel(ctx context.Context, p identity.Principal, name string) error {
	if _, err := s.writable(ctx, p, name); err != nil {
		return err
	}
	return s.repo.DeleteRegisteredModel(ctx, name)
}

// SearchRegisteredModels returns a page of models.
func (s *Service) SearchRegisteredModels(ctx context.Context, p identity.Principal, q ModelQuery) ([]RegisteredModel, string, error) {
	if err := tracking.CanRead(p); err != nil {
		return nil, "", err
	}
	var err error
	if q.MaxResults, err = tracking.MaxResults(q.MaxResults, ModelsDefault, ModelsMax); err != nil {
		return nil, "", err
	}
	for _, c := range q.Filter {
		switch {
		case c.Entity == tracking.EntityAttribute && c.Key == "name":
			if c.Op != tracking.OpEq && c.Op != tracking.OpNe && c.Op != tracking.OpLike && c.Op != tracking.OpILike {
				return nil, "", invalid("filter", "invalid comparator '%s' for name: use =, !=, LIKE or ILIKE", c.Op)
			}
		case c.Entity == tracking.EntityTag:
			if c.Op != tracking.OpEq && c.Op != tracking.OpNe && c.Op != tracking.OpLike && c.Op != tracking.OpILike {
				return nil, "", invalid("filter", "invalid comparator '%s' for tags: use =, !=, LIKE or ILIKE", c.Op)
			}
		default:
			return nil, "", invalid("filter", "invalid filter key '%s' for registered models: use name or tags.<key>", c.Key)
		}
	}
	for i, o := range q.OrderBy {
		k, ok := modelOrderKeys[o.Key]
		if o.Entity != tracking.EntityAttribute || !ok {
			return nil, "", invalid("order_by", "invalid order_by key '%s' for registered models: use name, timestamp or last_updated_timestamp", o.Key)
		}
		q.OrderBy[i].Key = k
	}
	return s.repo.SearchRegisteredModels(ctx, q)
}

var modelOrderKeys = map[string]string{"name": "name", "timestamp": "creation_timestamp", "creation_timestamp": "creation_timestamp",
	"last_updated_timestamp": "last_updated_timestamp"}

// SetRegisteredModelTag sets a tag; the owning team's tag cannot change.
func (s *Service) SetRegisteredModelTag(ctx context.Context, p identity.Principal, name string, t tracking.Tag) error {
	if err := validTag(t); err != nil {
		return err
	}
	m, err := s.writable(ctx, p, name)
	if err != nil {
		return err
	}
	if t.Key == tracking.TagTeam && t.Value != m.Team {
		return invalid("key", "registered model %q belongs to team %q; the %s tag cannot move it", name, m.Team, tracking.TagTeam)
	}
	return s.repo.SetRegisteredModelTag(ctx, name, t, s.now())
}

// DeleteRegisteredModelTag removes a tag.
func (s *Service) DeleteRegisteredModelTag(ctx context.Context, p identity.Principal, name, key string) error {
	if key == tracking.TagTeam {
		return invalid("key", "the owning team tag %s cannot be deleted", tracking.TagTeam)
	}
	if _, err := s.writable(ctx, p, name); err != nil {
		return err
	}
	return s.repo.DeleteRegisteredModelTag(ctx, name, key)
}

// CreateVersionRequest is what registering a version takes.
type CreateVersionRequest struct {
	Name, Source, RunID, RunLink, Description, ModelID string
	Tags                                               []tracking.Tag
}

// CreateModelVersion registers a new version and resolves its artifacts.
func (s *Service) CreateModelVersion(ctx context.Context, p identity.Principal, req CreateVersionRequest) (ModelVersion, error) {
	m, err := s.writable(ctx, p, req.Name)
	if err != nil {
		return ModelVersion{}, err
	}
	if req.Source == "" {
		return ModelVersion{}, invalid("source", "missing value for required parameter 'source': the model's artifact URI (runs:/<run_id>/<path> or models:/<model_id>)")
	}
	for _, t := range req.Tags {
		if err := validTag(t); err != nil {
			return ModelVersion{}, err
		}
	}
	storage, err := s.resolve(ctx, req.Source, req.ModelID)
	if err != nil {
		return ModelVersion{}, err
	}
	if req.RunID != "" {
		if _, err := s.sources.GetRunInfo(ctx, req.RunID); err != nil {
			return ModelVersion{}, err
		}
	}
	if s.gate != nil {
		if run := s.trainingRun(ctx, req); run != "" {
			if err := s.gate.CheckTrainingData(ctx, run); err != nil {
				return ModelVersion{}, err
			}
		}
	}
	now := s.now()
	return s.repo.CreateModelVersion(ctx, ModelVersion{Name: m.Name, CreationTime: now, LastUpdatedTime: now, UserID: p.Subject,
		CurrentStage: StageNone, Description: req.Description, Source: req.Source, StorageLocation: storage, RunID: req.RunID,
		RunLink: req.RunLink, ModelID: req.ModelID, Status: StatusReady, Tags: req.Tags, Team: m.Team},
		Event{Model: m.Name, Kind: EventVersionCreated, Actor: p.Actor(), Time: now, Reason: req.Description})
}

// trainingRun is the run that produced a version being registered: the
// request's run id, the run of a runs:/ source, or the source run of a
// logged model; "" when none is known.
func (s *Service) trainingRun(ctx context.Context, req CreateVersionRequest) string {
	if req.RunID != "" {
		return req.RunID
	}
	if rest, ok := strings.CutPrefix(req.Source, "runs:/"); ok {
		id, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		return id
	}
	id := req.ModelID
	if rest, ok := strings.CutPrefix(req.Source, "models:/m-"); ok {
		id, _, _ = strings.Cut("m-"+rest, "/")
	}
	if id == "" {
		return ""
	}
	lm, err := s.sources.GetLoggedModel(ctx, id)
	if err != nil {
		return ""
	}
	return lm.SourceRunID
}

// resolve turns a version source into the artifact URI it names.
func (s *Service) resolve(ctx context.Context, source, modelID string) (string, error) {
	switch {
	case strings.HasPrefix(source, "runs:/"):
		rest := strings.TrimPrefix(source, "runs:/")
		runID, path, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		ri, err := s.sources.GetRunInfo(ctx, runID)
		if err != nil {
			return "", invalid("source", "source %s names run %q, which does not exist", source, runID)
		}
		if path == "" {
			return ri.ArtifactURI, nil
		}
		return ri.ArtifactURI + "/" + path, nil
	case strings.HasPrefix(source, "models:/m-"):
		id, path, _ := strings.Cut(strings.TrimPrefix(source, "models:/"), "/")
		lm, err := s.sources.GetLoggedModel(ctx, id)
		if err != nil {
			return "", invalid("source", "source %s names logged model %q, which does not exist", source, id)
		}
		if path == "" {
			return lm.ArtifactURI, nil
		}
		return lm.ArtifactURI + "/" + path, nil
	case strings.HasPrefix(source, "models:/"):
		return "", invalid("source", "source %s is a registered model URI; register from the run (runs:/…) or the logged model (models:/m-…)", source)
	}
	if modelID != "" {
		if _, err := s.sources.GetLoggedModel(ctx, modelID); err != nil {
			return "", invalid("model_id", "logged model %q does not exist", modelID)
		}
	}
	return source, nil
}

// GetModelVersion returns one version.
func (s *Service) GetModelVersion(ctx context.Context, p identity.Principal, name, version string) (ModelVersion, error) {
	if err := tracking.CanRead(p); err != nil {
		return ModelVersion{}, err
	}
	v, err := ParseVersion(version)
	if err != nil {
		return ModelVersion{}, err
	}
	return s.repo.GetModelVersion(ctx, name, v)
}

// DownloadURI returns where a version's artifacts are.
func (s *Service) DownloadURI(ctx context.Context, p identity.Principal, name, version string) (string, error) {
	mv, err := s.GetModelVersion(ctx, p, name, version)
	if err != nil {
		return "", err
	}
	return mv.StorageLocation, nil
}

func (s *Service) writableVersion(ctx context.Context, p identity.Principal, name, version string) (ModelVersion, error) {
	v, err := ParseVersion(version)
	if err != nil {
		return ModelVersion{}, err
	}
	if _, err := s.writable(ctx, p, name); err != nil {
		return ModelVersion{}, err
	}
	return s.repo.GetModelVersion(ctx, name, v)
}

// UpdateModelVersion changes a version's description.
func (s *Service) UpdateModelVersion(ctx context.Context, p identity.Principal, name, version, description string) (ModelVersion, error) {
	mv, err := s.writableVersion(ctx, p, name, version)
	if err != nil {
		return mv, err
	}
	if err := s.repo.UpdateModelVersion(ctx, name, mv.Version, description, s.now()); err != nil {
		return mv, err
	}
	return s.repo.GetModelVersion(ctx, name, mv.Version)
}

// DeleteModelVersion deletes a version (and the aliases pointing at it).
func (s *Service) DeleteModelVersion(ctx context.Context, p identity.Principal, name, version string) error {
	mv, err := s.writableVersion(ctx, p, name, version)
	if err != nil {
		return err
	}
	return s.repo.DeleteModelVersion(ctx, name, mv.Version,
		Event{Model: name, Kind: EventVersionDeleted, Version: mv.Version, Actor: p.Actor(), Time: s.now()})
}

// TransitionStage moves a version to a stage and records who, when and why.
func (s *Service) TransitionStage(ctx context.Context, p identity.Principal, name, version, stage string, archiveExisting bool) (ModelVersion, error) {
	st, ok := CanonicalStage(stage)
	if !ok {
		return ModelVersion{}, invalid("stage", "invalid Model Version stage: %s. Value must be one of None, Staging, Production, Archived.", stage)
	}
	mv, err := s.writableVersion(ctx, p, name, version)
	if err != nil {
		return mv, err
	}
	ev := Event{Model: name, Kind: EventStage, Version: mv.Version, To: st, Actor: p.Actor(), Time: s.now(), Reason: reason(mv)}
	if err := s.repo.TransitionStage(ctx, name, mv.Version, st, archiveExisting && (st == StageStaging || st == StageProduction), ev); err != nil {
		return mv, err
	}
	return s.repo.GetModelVersion(ctx, name, mv.Version)
}

func reason(mv ModelVersion) string {
	for _, t := range mv.Tags {
		if t.Key == TagReason {
			return t.Value
		}
	}
	return mv.Description
}

// SearchModelVersions returns a page of versions.
func (s *Service) SearchModelVersions(ctx context.Context, p identity.Principal, q VersionQuery) ([]ModelVersion, string, error) {
	if err := tracking.CanRead(p); err != nil {
		return nil, "", err
	}
	var err error
	if q.MaxResults, err = tracking.MaxResults(q.MaxResults, VersionsDefault, VersionsMax); err != nil {
		return nil, "", err
	}
	for i, c := range q.Filter {
		switch {
		case c.Entity == tracking.EntityTag:
		case c.Entity == tracking.EntityAttribute && (c.Key == "name" || c.Key == "run_id" || c.Key == "source_path" || c.Key == "source"):
			if c.Key == "source" {
				q.Filter[i].Key = "source_path"
			}
		case c.Entity == tracking.EntityAttribute && (c.Key == "version_number" || c.Key == "version"):
			q.Filter[i].Key = "version_number"
			if !c.IsNumber {
				return nil, "", invalid("filter", "version_number is a number; compare it without quotes")
			}
		default:
			return nil, "", invalid("filter", "invalid filter key '%s' for model versions: use name, run_id, source_path, version_number or tags.<key>", c.Key)
		}
	}
	for i, o := range q.OrderBy {
		k, ok := versionOrderKeys[o.Key]
		if o.Entity != tracking.EntityAttribute || !ok {
			return nil, "", invalid("order_by", "invalid order_by key '%s' for model versions: use name, version_number, creation_timestamp or last_updated_timestamp", o.Key)
		}
		q.OrderBy[i].Key = k
	}
	return s.repo.SearchModelVersions(ctx, q)
}

var versionOrderKeys = map[string]string{"name": "name", "version_number": "version_number", "version": "version_number",
	"timestamp": "creation_timestamp", "creation_timestamp": "creation_timestamp", "last_updated_timestamp": "last_updated_timestamp"}

// LatestVersions returns the newest version in each of the stages (all
// stages when none are given).
func (s *Service) LatestVersions(ctx context.Context, p identity.Principal, name string, stages []string) ([]ModelVersion, error) {
	if _, err := s.GetRegisteredModel(ctx, p, name); err != nil {
		return nil, err
	}
	canon := make([]string, 0, len(stages))
	for _, st := range stages {
		c, ok := CanonicalStage(st)
		if !ok {
			return nil, invalid("stages", "invalid Model Version stage: %s. Value must be one of None, Staging, Production, Archived.", st)
		}
		canon = append(canon, c)
	}
	return s.repo.LatestVersions(ctx, name, canon)
}

// SetModelVersionTag sets a tag on a version.
func (s *Service) SetModelVersionTag(ctx context.Context, p identity.Principal, name, version string, t tracking.Tag) error {
	if err := validTag(t); err != nil {
		return err
	}
	mv, err := s.writableVersion(ctx, p, name, version)
	if err != nil {
		return err
	}
	return s.repo.SetModelVersionTag(ctx, name, mv.Version, t, s.now())
}

// DeleteModelVersionTag removes a tag from a version.
func (s *Service) DeleteModelVersionTag(ctx context.Context, p identity.Principal, name, version, key string) error {
	mv, err := s.writableVersion(ctx, p, name, version)
	if err != nil {
		return err
	}
	return s.repo.DeleteModelVersionTag(ctx, name, mv.Version, key)
}

// SetAlias points alias at a version and records the move.
func (s *Service) SetAlias(ctx context.Context, p identity.Principal, name, alias, version string) error {
	if err := validAlias(alias); err != nil {
		return err
	}
	mv, err := s.writableVersion(ctx, p, name, version)
	if err != nil {
		return err
	}
	ev := Event{Model: name, Kind: EventAlias, Alias: alias, Version: mv.Version, To: strconv.FormatInt(mv.Version, 10),
		Actor: p.Actor(), Time: s.now(), Reason: reason(mv)}
	return s.repo.SetAlias(ctx, name, alias, mv.Version, ev)
}

// DeleteAlias removes an alias and records it.
func (s *Service) DeleteAlias(ctx context.Context, p identity.Principal, name, alias string) error {
	if _, err := s.writable(ctx, p, name); err != nil {
		return err
	}
	ev := Event{Model: name, Kind: EventAlias, Alias: alias, Actor: p.Actor(), Time: s.now()}
	return s.repo.DeleteAlias(ctx, name, alias, ev)
}

// GetVersionByAlias resolves an alias.
func (s *Service) GetVersionByAlias(ctx context.Context, p identity.Principal, name, alias string) (ModelVersion, error) {
	if err := tracking.CanRead(p); err != nil {
		return ModelVersion{}, err
	}
	return s.repo.GetVersionByAlias(ctx, name, alias)
}

// History returns a model's events (stages, aliases, versions registered
// and deleted, approvals), oldest first, after the event id afterID, at
// most limit of them; /api/v1/models/{model}/history serves them.
func (s *Service) History(ctx context.Context, p identity.Principal, name string, afterID int64, limit int) ([]Event, error) {
	if _, err := s.GetRegisteredModel(ctx, p, name); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.repo.History(ctx, name, afterID, limit)
}
