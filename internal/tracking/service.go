package tracking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
)

// ExperimentQuery is a search over experiments.
type ExperimentQuery struct {
	Filter     Filter
	OrderBy    []OrderBy
	View       ViewType
	MaxResults int
	PageToken  string
}

// RunQuery is a search over runs. Filter and OrderBy are checked
// (CheckRunFilter, CheckRunOrderBy) before the repository sees them.
type RunQuery struct {
	ExperimentIDs []string
	Filter        Filter
	OrderBy       []OrderBy
	View          ViewType
	MaxResults    int
	PageToken     string
}

// LoggedModelQuery is a search over logged models.
type LoggedModelQuery struct {
	ExperimentIDs []string
	Filter        Filter
	OrderBy       []OrderBy
	MaxResults    int
	PageToken     string
}

// Repository persists tracking data. Implementations return fault errors for
// missing entities (ErrNotFound) and taken names (ErrAlreadyExists).
type Repository interface {
	CreateExperiment(ctx context.Context, e Experiment) (Experiment, error)
	GetExperiment(ctx context.Context, id string) (Experiment, error)
	GetExperimentByName(ctx context.Context, name string) (Experiment, error)
	SearchExperiments(ctx context.Context, q ExperimentQuery) ([]Experiment, string, error)
	RenameExperiment(ctx context.Context, id, name string, now int64) error
	SetExperimentStage(ctx context.Context, id, stage string, now int64) error
	SetExperimentTag(ctx context.Context, id string, t Tag) error
	DeleteExperimentTag(ctx context.Context, id, key string) error

	CreateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, id string) (Run, error)
	GetRunInfo(ctx context.Context, id string) (RunInfo, error)
	UpdateRun(ctx context.Context, id string, status RunStatus, endTime int64, name string) (RunInfo, error)
	SetRunStage(ctx context.Context, id, stage string, now int64) error
	// LogBatch writes metrics, params and tags in one transaction; a param
	// already logged with another value is fault.ErrInvalid.
	LogBatch(ctx context.Context, runID string, b Batch) error
	DeleteRunTag(ctx context.Context, runID, key string) error
	LogInputs(ctx context.Context, runID string, ds []DatasetInput, modelIDs []string) error
	LogOutputs(ctx context.Context, runID string, outs []ModelOutput) error
	MetricHistory(ctx context.Context, runID, key string, maxResults int, pageToken string) ([]Metric, string, error)
	MetricHistoryBulk(ctx context.Context, runIDs []string, key string, startStep, endStep *int64, maxResults int) ([]Metric, error)
	SearchRuns(ctx context.Context, q RunQuery) ([]Run, string, error)

	CreateLoggedModel(ctx context.Context, m LoggedModel) error
	GetLoggedModel(ctx context.Context, id string) (LoggedModel, error)
	FinalizeLoggedModel(ctx context.Context, id string, status LoggedModelStatus, now int64) error
	SetLoggedModelTags(ctx context.Context, id string, tags []Tag, now int64) error
	DeleteLoggedModelTag(ctx context.Context, id, key string) error
	DeleteLoggedModel(ctx context.Context, id string, now int64) error
	SearchLoggedModels(ctx context.Context, q LoggedModelQuery) ([]LoggedModel, string, error)
}

// Teams tells who belongs to a team.
type Teams interface {
	Membership(ctx context.Context, team string) (identity.Membership, error)
}

// Service is experiment tracking with authorization.
type Service struct {
	repo  Repository
	teams Teams
	clock clock.Clock
	newID func() string
}

// Option configures a Service.
type Option func(*Service)

// WithIDs replaces the random 32-hex-digit id source (runs, logged models).
func WithIDs(f func() string) Option { return func(s *Service) { s.newID = f } }

// NewService returns the tracking service.
func NewService(repo Repository, teams Teams, clk clock.Clock, opts ...Option) *Service {
	s := &Service{repo: repo, teams: teams, clock: clk, newID: randomID}
	for _, o := range opts {
		o(s)
	}
	return s
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Service) now() int64 { return millis(s.clock.Now()) }

// CanRead reports whether p may read tracking data: every credential with
// the read verb may, as with teams; tracking data is shared across the
// platform so people can compare runs.
func CanRead(p identity.Principal) error {
	if p.CanGlobally(identity.VerbRead) {
		return nil
	}
	return fault.Denied("this credential cannot read experiments; use a token with the read verb")
}

// AuthorizeWrite checks that p may change what team owns. Team "" is the
// shared Default experiment: every credential that may write anywhere may.
func AuthorizeWrite(ctx context.Context, teams Teams, p identity.Principal, team, what string) error {
	if p.Admin {
		return nil
	}
	if team == "" {
		if p.Kind == identity.KindToken && !containsVerb(p.TokenVerbs, identity.VerbWrite) {
			return fault.Denied("writing to %s needs a token with the write verb", what)
		}
		if p.Subject == "" {
			return fault.Denied("writing to %s needs a credential", what)
		}
		return nil
	}
	m := identity.Membership{Team: team}
	if p.Kind != identity.KindToken {
		var err error
		if m, err = teams.Membership(ctx, team); err != nil {
			if errors.Is(err, fault.ErrNotFound) {
				return fault.Denied("%s belongs to team %q, which no longer exists; ask a platform admin", what, team)
			}
			return err
		}
	}
	if !p.Can(identity.VerbWrite, m) {
		return fault.Denied("changing %s needs the write verb in team %q: ask a maintainer of %q for the developer role, or use a token of that team with write", what, team, team)
	}
	return nil
}

func containsVerb(vs []identity.Verb, v identity.Verb) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// OwningTeam decides which team owns a new experiment or registered model:
// the mlportal.team tag if given, else the credential's only team (a
// team-scoped token). It checks the team exists and p may write in it.
func OwningTeam(ctx context.Context, teams Teams, p identity.Principal, tags []Tag, what string) (string, error) {
	team := ""
	for _, t := range tags {
		if t.Key == TagTeam {
			team = strings.TrimSpace(t.Value)
		}
	}
	if team == "" {
		team = p.TokenTeam
	}
	if team == "" {
		return "", invalid("tags", "say which team owns %s: set the tag %s=<team>, or use a token scoped to one team (mlportal token create --team <team>)", what, TagTeam)
	}
	if _, err := teams.Membership(ctx, team); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return "", invalid("tags", "team %q (tag %s) does not exist; create it or pick another (mlportal teams list)", team, TagTeam)
		}
		return "", err
	}
	return team, AuthorizeWrite(ctx, teams, p, team, what)
}

// CreateExperiment creates an experiment owned by the team OwningTeam picks.
func (s *Service) CreateExperiment(ctx context.Context, p identity.Principal, name, artifactLocation string, tags []Tag) (string, error) {
	if err := ValidateExperimentName(name); err != nil {
		return "", err
	}
	if artifactLocation != "" {
		return "", invalid("artifact_location", "mlportal stores artifacts itself: leave artifact_location unset (it becomes mlflow-artifacts:/<experiment_id>)")
	}
	for _, t := range tags {
		if err := validTag(t); err != nil {
			return "", err
		}
	}
	team, err := OwningTeam(ctx, s.teams, p, tags, fmt.Sprintf("experiment %q", name))
	if err != nil {
		return "", err
	}
	now := s.now()
	e, err := s.repo.CreateExperiment(ctx, Experiment{Name: name, Team: team, LifecycleStage: StageActive,
		CreationTime: now, LastUpdateTime: now, Tags: withTag(tags, Tag{Key: TagTeam, Value: team})})
	if errors.Is(err, fault.ErrAlreadyExists) {
		return "", fault.New(fault.ErrAlreadyExists, "Experiment '%s' already exists.", name)
	}
	return e.ID, err
}

func withTag(tags []Tag, t Tag) []Tag {
	out := make([]Tag, 0, len(tags)+1)
	for _, x := range tags {
		if x.Key != t.Key {
			out = append(out, x)
		}
	}
	return append(out, t)
}

// ExperimentID checks an experiment id's form.
func ExperimentID(id string) error {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return fault.New(fault.ErrNotFound, "No Experiment with id=%s exists", id)
	}
	return nil
}

// GetExperiment returns an experiment, deleted ones too.
func (s *Service) GetExperiment(ctx context.Context, p identity.Principal, id string) (Experiment, error) {
	if err := CanRead(p); err != nil {
		return Experiment{}, err
	}
	if err := ExperimentID(id); err != nil {
		return Experiment{}, err
	}
	return s.repo.GetExperiment(ctx, id)
}

// GetExperimentByName returns the experiment with that name.
func (s *Service) GetExperimentByName(ctx context.Context, p identity.Principal, name string) (Experiment, error) {
	if err := CanRead(p); err != nil {
		return Experiment{}, err
	}
	return s.repo.GetExperimentByName(ctx, name)
}

// SearchExperiments returns a page of experiments.
func (s *Service) SearchExperiments(ctx context.Context, p identity.Principal, q ExperimentQuery) ([]Experiment, string, error) {
	if err := CanRead(p); err != nil {
		return nil, "", err
	}
	var err error
	if q.MaxResults, err = MaxResults(q.MaxResults, SearchDefaultResults, SearchMaxResults); err != nil {
		return nil, "", err
	}
	for _, c := range q.Filter {
		switch {
		case c.Entity == EntityTag:
			if err := checkOp(c, keyedOps); err != nil {
				return nil, "", err
			}
		case c.Entity == EntityAttribute && c.Key == "name":
			if err := checkOp(c, stringOps); err != nil {
				return nil, "", err
			}
		case c.Entity == EntityAttribute && (c.Key == "creation_time" || c.Key == "last_update_time"):
			if err := checkOp(c, numericOps); err != nil {
				return nil, "", err
			}
			if !c.IsNumber {
				return nil, "", invalid("filter", "%s is a number of milliseconds; compare it with a number", c.Key)
			}
		default:
			return nil, "", invalid("filter", "invalid key '%s' in experiment filter: use name, creation_time, last_update_time or tags.<key>", c.Key)
		}
	}
	for _, o := range q.OrderBy {
		if o.Entity != EntityAttribute || (o.Key != "name" && o.Key != "experiment_id" && o.Key != "creation_time" && o.Key != "last_update_time") {
			return nil, "", invalid("order_by", "invalid order_by key '%s': use name, experiment_id, creation_time or last_update_time", o.Key)
		}
	}
	return s.repo.SearchExperiments(ctx, q)
}

func (s *Service) writableExperiment(ctx context.Context, p identity.Principal, id string) (Experiment, error) {
	if err := ExperimentID(id); err != nil {
		return Experiment{}, err
	}
	e, err := s.repo.GetExperiment(ctx, id)
	if err != nil {
		return e, err
	}
	return e, AuthorizeWrite(ctx, s.teams, p, e.Team, fmt.Sprintf("experiment %q", e.Name))
}

// RenameExperiment changes an experiment's name.
func (s *Service) RenameExperiment(ctx context.Context, p identity.Principal, id, name string) error {
	if err := ValidateExperimentName(name); err != nil {
		return err
	}
	e, err := s.writableExperiment(ctx, p, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return invalid("experiment_id", "cannot rename a non-active experiment; restore experiment %s first", id)
	}
	err = s.repo.RenameExperiment(ctx, id, name, s.now())
	if errors.Is(err, fault.ErrAlreadyExists) {
		return fault.New(fault.ErrAlreadyExists, "Experiment '%s' already exists.", name)
	}
	return err
}

// DeleteExperiment marks an experiment and its runs deleted.
func (s *Service) DeleteExperiment(ctx context.Context, p identity.Principal, id string) error {
	if id == "0" {
		return invalid("experiment_id", "cannot delete the default experiment '0'; it holds runs started without an experiment")
	}
	if _, err := s.writableExperiment(ctx, p, id); err != nil {
		return err
	}
	return s.repo.SetExperimentStage(ctx, id, StageDeleted, s.now())
}

// RestoreExperiment undoes DeleteExperiment.
func (s *Service) RestoreExperiment(ctx context.Context, p identity.Principal, id string) error {
	e, err := s.writableExperiment(ctx, p, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageDeleted {
		return invalid("experiment_id", "cannot restore experiment with ID %s. It is not in the deleted state.", id)
	}
	return s.repo.SetExperimentStage(ctx, id, StageActive, s.now())
}

// SetExperimentTag sets a tag; the owning team's tag cannot change.
func (s *Service) SetExperimentTag(ctx context.Context, p identity.Principal, id string, t Tag) error {
	if err := validTag(t); err != nil {
		return err
	}
	e, err := s.writableExperiment(ctx, p, id)
	if err != nil {
		return err
	}
	if t.Key == TagTeam && t.Value != e.Team {
		return invalid("key", "the owning team of experiment %s is %q and cannot be changed by a tag", id, e.Team)
	}
	if e.LifecycleStage != StageActive {
		return invalid("experiment_id", "the experiment %s must be in the 'active' state; restore it first", id)
	}
	return s.repo.SetExperimentTag(ctx, id, t)
}

// DeleteExperimentTag removes a tag.
func (s *Service) DeleteExperimentTag(ctx context.Context, p identity.Principal, id, key string) error {
	if key == TagTeam {
		return invalid("key", "the owning team tag %s cannot be deleted", TagTeam)
	}
	e, err := s.writableExperiment(ctx, p, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return invalid("experiment_id", "the experiment %s must be in the 'active' state; restore it first", id)
	}
	return s.repo.DeleteExperimentTag(ctx, id, key)
}

// CreateRunRequest is what creating a run takes.
type CreateRunRequest struct {
	ExperimentID string
	UserID       string
	Name         string
	StartTime    int64
	Tags         []Tag
}

// CreateRun starts a run in an experiment.
func (s *Service) CreateRun(ctx context.Context, p identity.Principal, req CreateRunRequest) (Run, error) {
	if req.ExperimentID == "" {
		req.ExperimentID = "0"
	}
	e, err := s.activeExperiment(ctx, p, req.ExperimentID)
	if err != nil {
		return Run{}, err
	}
	r, err := s.newRun(p, e, req)
	if err != nil {
		return Run{}, err
	}
	if err := s.repo.CreateRun(ctx, r); err != nil {
		return Run{}, err
	}
	return r, nil
}

// RunsCreator is a Repository that creates many runs in one transaction.
type RunsCreator interface {
	CreateRuns(ctx context.Context, rs []Run) error
}

// CreateRuns creates runs in one experiment, all or none: one check of
// the experiment and, when the repository can, one transaction — what a
// scheduling cycle does for the hundreds of jobs it admits at once. Each
// request's ExperimentID is ignored.
func (s *Service) CreateRuns(ctx context.Context, p identity.Principal, experimentID string, reqs []CreateRunRequest) ([]Run, error) {
	e, err := s.activeExperiment(ctx, p, experimentID)
	if err != nil {
		return nil, err
	}
	runs := make([]Run, len(reqs))
	for i, req := range reqs {
		if runs[i], err = s.newRun(p, e, req); err != nil {
			return nil, err
		}
	}
	if rc, ok := s.repo.(RunsCreator); ok {
		return runs, rc.CreateRuns(ctx, runs)
	}
	for _, r := range runs {
		if err := s.repo.CreateRun(ctx, r); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// activeExperiment is the experiment id, if p may write to it and it is
// active.
func (s *Service) activeExperiment(ctx context.Context, p identity.Principal, id string) (Experiment, error) {
	e, err := s.writableExperiment(ctx, p, id)
	if err != nil {
		return e, err
	}
	if e.LifecycleStage != StageActive {
		return e, invalid("experiment_id", "the experiment id '%s' must be in the 'active' state; restore it first", e.ID)
	}
	return e, nil
}

// newRun is the run req asks for in e, not yet stored.
func (s *Service) newRun(p identity.Principal, e Experiment, req CreateRunRequest) (Run, error) {
	for _, t := range req.Tags {
		if err := validTag(t); err != nil {
			return Run{}, err
		}
	}
	name := req.Name
	for _, t := range req.Tags {
		if t.Key == TagRunName && name == "" {
			name = t.Value
		}
	}
	if name == "" {
		name = randomRunName()
	}
	if req.StartTime == 0 {
		req.StartTime = s.now()
	}
	if req.UserID == "" {
		req.UserID = p.Subject
	}
	id := s.newID()
	return Run{Info: RunInfo{ID: id, ExperimentID: e.ID, Name: name, UserID: req.UserID, Status: StatusRunning,
		StartTime: req.StartTime, ArtifactURI: e.ArtifactLocation + "/" + id + "/artifacts", LifecycleStage: StageActive, Team: e.Team},
		Tags: withTag(req.Tags, Tag{Key: TagRunName, Value: name})}, nil
}

var (
	adjectives = []string{"bright", "calm", "bold", "keen", "swift", "quiet", "brave", "clever", "gentle", "lucky", "merry", "wise"}
	nouns      = []string{"fox", "owl", "lynx", "hare", "wolf", "crow", "seal", "moth", "trout", "finch", "otter", "yak"}
)

func pick(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func randomRunName() string {
	return fmt.Sprintf("%s-%s-%d", adjectives[pick(len(adjectives))], nouns[pick(len(nouns))], pick(1000))
}

// GetRun returns a run with its latest metrics, params, tags and inputs.
func (s *Service) GetRun(ctx context.Context, p identity.Principal, id string) (Run, error) {
	if err := CanRead(p); err != nil {
		return Run{}, err
	}
	return s.repo.GetRun(ctx, id)
}

// writableRun checks p may change the run and that it is active.
func (s *Service) writableRun(ctx context.Context, p identity.Principal, id string, mustBeActive bool) (RunInfo, error) {
	if id == "" {
		return RunInfo{}, invalid("run_id", "missing value for required parameter 'run_id'")
	}
	ri, err := s.repo.GetRunInfo(ctx, id)
	if err != nil {
		return ri, err
	}
	if err := AuthorizeWrite(ctx, s.teams, p, ri.Team, "run "+id); err != nil {
		return ri, err
	}
	if mustBeActive && ri.LifecycleStage != StageActive {
		return ri, invalid("run_id", "the run %s must be in the 'active' state. Current state is %s.", id, ri.LifecycleStage)
	}
	return ri, nil
}

// UpdateRun changes a run's status, end time or name.
func (s *Service) UpdateRun(ctx context.Context, p identity.Principal, id string, status RunStatus, endTime int64, name string) (RunInfo, error) {
	ri, err := s.writableRun(ctx, p, id, true)
	if err != nil {
		return ri, err
	}
	if status == "" {
		status = ri.Status
	}
	if !ValidStatus(status) {
		return ri, invalid("status", "invalid run status %q: use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED", status)
	}
	if endTime == 0 {
		endTime = ri.EndTime
	}
	return s.repo.UpdateRun(ctx, id, status, endTime, name)
}

// DeleteRun marks a run deleted.
func (s *Service) DeleteRun(ctx context.Context, p identity.Principal, id string) error {
	if _, err := s.writableRun(ctx, p, id, false); err != nil {
		return err
	}
	return s.repo.SetRunStage(ctx, id, StageDeleted, s.now())
}

// RestoreRun undoes DeleteRun.
func (s *Service) RestoreRun(ctx context.Context, p identity.Principal, id string) error {
	if _, err := s.writableRun(ctx, p, id, false); err != nil {
		return err
	}
	return s.repo.SetRunStage(ctx, id, StageActive, s.now())
}

// LogBatch writes metrics, params and tags with MLflow's limits.
func (s *Service) LogBatch(ctx context.Context, p identity.Principal, runID string, b Batch) error {
	if err := ValidateBatch(b); err != nil {
		return err
	}
	if _, err := s.writableRun(ctx, p, runID, true); err != nil {
		return err
	}
	now := s.now()
	for i := range b.Metrics {
		if b.Metrics[i].Timestamp == 0 {
			b.Metrics[i].Timestamp = now
		}
	}
	return s.repo.LogBatch(ctx, runID, b)
}

// DeleteRunTag removes a run's tag.
func (s *Service) DeleteRunTag(ctx context.Context, p identity.Principal, runID, key string) error {
	if _, err := s.writableRun(ctx, p, runID, true); err != nil {
		return err
	}
	return s.repo.DeleteRunTag(ctx, runID, key)
}

// LogInputs records the datasets and logged models a run used.
func (s *Service) LogInputs(ctx context.Context, p identity.Principal, runID string, ds []DatasetInput, modelIDs []string) error {
	if _, err := s.writableRun(ctx, p, runID, true); err != nil {
		return err
	}
	for _, d := range ds {
		if d.Dataset.Name == "" || d.Dataset.Digest == "" {
			return invalid("datasets", "a dataset input needs a name and a digest")
		}
		for _, t := range d.Tags {
			if err := validTag(t); err != nil {
				return err
			}
		}
	}
	return s.repo.LogInputs(ctx, runID, ds, modelIDs)
}

// LogOutputs records the logged models a run produced.
func (s *Service) LogOutputs(ctx context.Context, p identity.Principal, runID string, outs []ModelOutput) error {
	if _, err := s.writableRun(ctx, p, runID, true); err != nil {
		return err
	}
	for _, o := range outs {
		if _, err := s.repo.GetLoggedModel(ctx, o.ModelID); err != nil {
			return err
		}
	}
	return s.repo.LogOutputs(ctx, runID, outs)
}

// MetricHistory returns every value of a run's metric, by step then time.
func (s *Service) MetricHistory(ctx context.Context, p identity.Principal, runID, key string, maxResults int, token string) ([]Metric, string, error) {
	if err := CanRead(p); err != nil {
		return nil, "", err
	}
	if _, err := s.repo.GetRunInfo(ctx, runID); err != nil {
		return nil, "", err
	}
	n, err := MaxResults(maxResults, HistoryDefaultResults, 1<<30)
	if err != nil {
		return nil, "", err
	}
	return s.repo.MetricHistory(ctx, runID, key, n, token)
}

// MetricHistoryBulk returns a metric's values across runs, within steps.
func (s *Service) MetricHistoryBulk(ctx context.Context, p identity.Principal, runIDs []string, key string, startStep, endStep *int64, maxResults int) ([]Metric, error) {
	if err := CanRead(p); err != nil {
		return nil, err
	}
	if len(runIDs) == 0 {
		return nil, invalid("run_ids", "GetMetricHistoryBulkInterval request must specify at least one run_id")
	}
	if len(runIDs) > 100 {
		return nil, invalid("run_ids", "GetMetricHistoryBulkInterval request cannot specify more than 100 run_ids. Received %d run_ids.", len(runIDs))
	}
	if key == "" {
		return nil, invalid("metric_key", "missing value for required parameter 'metric_key'")
	}
	if startStep != nil && endStep != nil && *startStep > *endStep {
		return nil, invalid("start_step", "end_step must be greater than start_step. Found start_step=%d and end_step=%d.", *startStep, *endStep)
	}
	n, err := MaxResults(maxResults, 320, 1000)
	if err != nil {
		return nil, err
	}
	return s.repo.MetricHistoryBulk(ctx, runIDs, key, startStep, endStep, n)
}

// SearchRuns returns a page of runs matching the query.
func (s *Service) SearchRuns(ctx context.Context, p identity.Principal, q RunQuery) ([]Run, string, error) {
	if err := CanRead(p); err != nil {
		return nil, "", err
	}
	var err error
	if q.MaxResults, err = MaxResults(q.MaxResults, SearchDefaultResults, SearchMaxResults); err != nil {
		return nil, "", err
	}
	if err := CheckRunFilter(q.Filter); err != nil {
		return nil, "", err
	}
	if err := CheckRunOrderBy(q.OrderBy); err != nil {
		return nil, "", err
	}
	if q.View == 0 {
		q.View = ViewActiveOnly
	}
	for _, id := range q.ExperimentIDs {
		if err := ExperimentID(id); err != nil {
			return nil, "", err
		}
	}
	if len(q.ExperimentIDs) == 0 {
		return nil, "", nil
	}
	return s.repo.SearchRuns(ctx, q)
}

// ArtifactPath checks an artifact path of the proxied artifact API
// (`<experiment_id>/…`, as under mlflow-artifacts:/) and that p may read
// it, or write it when write is set. It returns the path cleaned.
func (s *Service) ArtifactPath(ctx context.Context, p identity.Principal, path string, write bool) (string, error) {
	path = strings.Trim(path, "/")
	for _, part := range strings.Split(path, "/") {
		if part == ".." || part == "." || strings.Contains(part, "\\") {
			return "", invalid("path", "invalid artifact path %q: no '.' or '..' elements", path)
		}
	}
	if path == "" {
		if write {
			return "", invalid("path", "an artifact path starts with an experiment id: mlflow-artifacts:/<experiment_id>/…")
		}
		return "", CanRead(p)
	}
	expID, _, _ := strings.Cut(path, "/")
	if err := ExperimentID(expID); err != nil {
		return "", fault.New(fault.ErrNotFound, "no artifacts at %q: artifact paths start with an experiment id", path)
	}
	if !write {
		return path, CanRead(p)
	}
	e, err := s.repo.GetExperiment(ctx, expID)
	if err != nil {
		return "", err
	}
	return path, AuthorizeWrite(ctx, s.teams, p, e.Team, fmt.Sprintf("the artifacts of experiment %q", e.Name))
}
