package datasets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/mlportal/mlportal/internal/clock"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/identity"
	"github.com/mlportal/mlportal/internal/lifecycle"
	"github.com/mlportal/mlportal/internal/pagination"
	"github.com/mlportal/mlportal/internal/project"
	"github.com/mlportal/mlportal/internal/tracking"
)

// Repository persists datasets. Missing ones are fault.ErrNotFound.
type Repository interface {
	// RegisterDatasetVersion records v as the dataset's next version,
	// creating the dataset for v.Team on first use. When the dataset
	// already has v.ContentHash it returns that version and false; when
	// the dataset belongs to another team, fault.ErrConflict.
	RegisterDatasetVersion(ctx context.Context, v Version) (Version, bool, error)
	GetDataset(ctx context.Context, name string) (Dataset, error)
	GetDatasetVersion(ctx context.Context, name string, version int) (Version, error)
	// ListDatasets returns up to limit datasets after the name `after`.
	ListDatasets(ctx context.Context, team, after string, limit int) ([]Dataset, error)
	// FindDatasetVersions returns the versions with any of the content
	// hashes or URIs.
	FindDatasetVersions(ctx context.Context, hashes, uris []string) ([]Version, error)
}

// Projects finds a team's project.
type Projects interface {
	GetProjectByName(ctx context.Context, team, name string) (project.Project, error)
}

// Templates resolves lifecycle templates.
type Templates interface {
	Get(name, version string) (lifecycle.Template, error)
}

// Runs reads a run with its logged inputs.
type Runs interface {
	GetRun(ctx context.Context, id string) (tracking.Run, error)
}

// Service registers datasets, reports their quality and guards the
// registry against models trained on failed data.
type Service struct {
	repo      Repository
	projects  Projects
	templates Templates
	runs      Runs
	teams     tracking.Teams
	clock     clock.Clock
}

// NewService returns the service.
func NewService(repo Repository, projects Projects, templates Templates, runs Runs, teams tracking.Teams, clk clock.Clock) *Service {
	return &Service{repo: repo, projects: projects, templates: templates, runs: runs, teams: teams, clock: clk}
}

// RegisterRequest is a dataset version to register.
type RegisterRequest struct {
	Team, Project, Name, URI, ContentHash, Description string
	RowCount                                           *int64
	Schema                                             []Column
	Profile                                            *Profile
}

var (
	nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	hashRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// Register records a dataset version with its quality report, checked
// against the project's lifecycle template. It returns false (and the
// version made before) when the dataset already has this content.
func (s *Service) Register(ctx context.Context, p identity.Principal, req RegisterRequest) (Version, bool, error) {
	req.ContentHash = strings.ToLower(strings.TrimSpace(req.ContentHash))
	if h := req.ContentHash; len(h) == 64 && !strings.Contains(h, ":") {
		req.ContentHash = "sha256:" + h
	}
	var errs []fault.FieldError
	if len(req.Name) < 2 || len(req.Name) > 63 || !nameRE.MatchString(req.Name) {
		errs = append(errs, fault.Field("name", "must be 2-63 lower-case letters, digits or '-', starting with a letter (got %q)", req.Name))
	}
	if strings.TrimSpace(req.URI) == "" {
		errs = append(errs, fault.Field("uri", "say where the data is: s3://…, file://… or mlflow-artifacts:/…"))
	}
	if !hashRE.MatchString(req.ContentHash) {
		errs = append(errs, fault.Field("contentHash", "must be sha256: and 64 hex digits, the SHA-256 of the data (`mlportal datasets register FILE` computes it)"))
	}
	if req.RowCount != nil && *req.RowCount < 0 {
		errs = append(errs, fault.Field("rowCount", "must not be negative"))
	}
	if len(errs) > 0 {
		return Version{}, false, fault.Invalid("the dataset is not valid", errs...)
	}
	m, err := s.teams.Membership(ctx, req.Team)
	if errors.Is(err, fault.ErrNotFound) {
		return Version{}, false, fault.Invalid(fmt.Sprintf("team %q does not exist", req.Team), fault.Field("team", "name an existing team (mlportal teams list)"))
	}
	if err != nil {
		return Version{}, false, err
	}
	if !p.Can(identity.VerbWrite, m) {
		return Version{}, false, fault.Denied("registering datasets of team %q needs the write verb there: ask a maintainer of %q for the developer role, or use a token of that team with write", req.Team, req.Team)
	}
	var exps []lifecycle.ColumnExpectation
	if req.Project != "" {
		prj, err := s.projects.GetProjectByName(ctx, req.Team, req.Project)
		if errors.Is(err, fault.ErrNotFound) {
			return Version{}, false, fault.Invalid(fmt.Sprintf("team %q has no project %q", req.Team, req.Project),
				fault.Field("project", "name a project of the team (mlportal project list --team %s), or leave it out", req.Team))
		}
		if err != nil {
			return Version{}, false, err
		}
		tpl, err := s.templates.Get(prj.Template, prj.TemplateVersion)
		if err != nil {
			return Version{}, false, fmt.Errorf("lifecycle template %s %s of project %s: %w", prj.Template, prj.TemplateVersion, prj.Name, err)
		}
		exps = tpl.Spec.DataExpectations
	}
	v := Version{Name: req.Name, Team: req.Team, Project: req.Project, URI: req.URI, ContentHash: req.ContentHash, Description: req.Description,
		RowCount: req.RowCount, Schema: req.Schema, Profile: req.Profile, CreatedAt: s.clock.Now().UTC(), CreatedBy: p.Actor()}
	v.Quality = Evaluate(exps, req.RowCount, req.Schema, req.Profile)
	out, created, err := s.repo.RegisterDatasetVersion(ctx, v)
	if fe, ok := fault.As(err); ok && fe.Kind == fault.ErrConflict {
		return Version{}, false, fault.New(fault.ErrConflict, "dataset %q belongs to another team; choose another name", req.Name)
	}
	return out, created, err
}

// Get returns a dataset with its versions.
func (s *Service) Get(ctx context.Context, p identity.Principal, name string) (Dataset, error) {
	if err := tracking.CanRead(p); err != nil {
		return Dataset{}, err
	}
	return s.repo.GetDataset(ctx, name)
}

// GetVersion returns one dataset version.
func (s *Service) GetVersion(ctx context.Context, p identity.Principal, name string, version int) (Version, error) {
	if err := tracking.CanRead(p); err != nil {
		return Version{}, err
	}
	return s.repo.GetDatasetVersion(ctx, name, version)
}

// List returns a page of datasets by name.
func (s *Service) List(ctx context.Context, p identity.Principal, team string, page pagination.Page) ([]Dataset, string, error) {
	if err := tracking.CanRead(p); err != nil {
		return nil, "", err
	}
	if page.Limit <= 0 {
		page.Limit = pagination.DefaultLimit
	}
	ds, err := s.repo.ListDatasets(ctx, team, page.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	keep, next := pagination.Next(len(ds), page.Limit, func(i int) string { return ds[i].Name })
	return ds[:keep], next, nil
}

// inputURI is where a logged input's data is: the uri, url or path of its
// source (a JSON object, as MLflow logs it), or the source itself.
func inputURI(d tracking.Dataset) string {
	var src map[string]any
	if json.Unmarshal([]byte(d.Source), &src) == nil {
		for _, k := range []string{"uri", "url", "path"} {
			if v, ok := src[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	return strings.TrimSpace(d.Source)
}

// inputHash is a logged input's digest as a content hash, or "".
func inputHash(d tracking.Dataset) string {
	h := strings.ToLower(strings.TrimSpace(d.Digest))
	if len(h) == 64 && !strings.Contains(h, ":") {
		h = "sha256:" + h
	}
	if hashRE.MatchString(h) {
		return h
	}
	return ""
}

// MatchInputs matches each run's logged inputs to registered dataset
// versions: by content hash (the input's digest), else by URI (the newest
// version of each dataset registered with that URI). Inputs that match
// nothing are left out.
func (s *Service) MatchInputs(ctx context.Context, inputs map[string][]tracking.DatasetInput) (map[string][]Ref, error) {
	var hashes, uris []string
	for _, ins := range inputs {
		for _, in := range ins {
			if h := inputHash(in.Dataset); h != "" {
				hashes = append(hashes, h)
			}
			if u := inputURI(in.Dataset); u != "" {
				uris = append(uris, u)
			}
		}
	}
	out := map[string][]Ref{}
	if len(hashes) == 0 && len(uris) == 0 {
		return out, nil
	}
	vs, err := s.repo.FindDatasetVersions(ctx, hashes, uris)
	if err != nil {
		return nil, err
	}
	byHash := map[string][]Version{}
	byURI := map[string]map[string]Version{} // uri → dataset → newest version
	for _, v := range vs {
		byHash[v.ContentHash] = append(byHash[v.ContentHash], v)
		if byURI[v.URI] == nil {
			byURI[v.URI] = map[string]Version{}
		}
		if cur, ok := byURI[v.URI][v.Name]; !ok || v.Version > cur.Version {
			byURI[v.URI][v.Name] = v
		}
	}
	for run, ins := range inputs {
		seen := map[string]bool{}
		add := func(v Version) {
			key := fmt.Sprintf("%s@%d", v.Name, v.Version)
			if !seen[key] {
				seen[key] = true
				out[run] = append(out[run], refOf(v))
			}
		}
		for _, in := range ins {
			if m := byHash[inputHash(in.Dataset)]; len(m) > 0 {
				for _, v := range m {
					add(v)
				}
				continue
			}
			for _, v := range byURI[inputURI(in.Dataset)] {
				add(v)
			}
		}
	}
	return out, nil
}

func refOf(v Version) Ref {
	r := Ref{Name: v.Name, Version: v.Version, Digest: v.ContentHash, URI: v.URI, Quality: v.Quality.Status}
	for _, c := range v.Quality.Failed() {
		r.Failed = append(r.Failed, c.Message)
	}
	return r
}

// CheckTrainingData refuses a model version trained on a dataset version
// whose quality report failed (modelregistry's DatasetGate): it names the
// dataset, its version and the checks that failed.
func (s *Service) CheckTrainingData(ctx context.Context, runID string) error {
	run, err := s.runs.GetRun(ctx, runID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil // the registry reports a missing run itself
	}
	if err != nil {
		return err
	}
	if len(run.Inputs) == 0 {
		return nil
	}
	refs, err := s.MatchInputs(ctx, map[string][]tracking.DatasetInput{runID: run.Inputs})
	if err != nil {
		return err
	}
	var bad []string
	var fields []fault.FieldError
	for _, r := range refs[runID] {
		if r.Quality != QualityFailed {
			continue
		}
		bad = append(bad, fmt.Sprintf("dataset %q version %d (%s)", r.Name, r.Version, strings.Join(r.Failed, "; ")))
		fields = append(fields, fault.Field("run_id", "dataset %s version %d failed its quality checks: %s", r.Name, r.Version, strings.Join(r.Failed, "; ")))
	}
	if len(bad) == 0 {
		return nil
	}
	return fault.Invalid(fmt.Sprintf("cannot register a model trained on data that failed its quality checks: run %s used %s. "+
		"Fix the data, register it again (mlportal datasets register), train on the new version and register that run's model",
		runID, strings.Join(bad, " and ")), fields...)
}
