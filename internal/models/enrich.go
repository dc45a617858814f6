package models

import (
	"context"
	"errors"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/mlportal/mlportal/internal/datasets"
	"github.com/mlportal/mlportal/internal/fault"
	"github.com/mlportal/mlportal/internal/modelregistry"
	"github.com/mlportal/mlportal/internal/tracking"
)

// artifactScheme starts the URIs of artifacts in mlportal's artifact store.
const artifactScheme = "mlflow-artifacts:/"

// Files read from a version's artifacts, and how much of each at most.
const (
	fileMLmodel      = "MLmodel"
	fileRequirements = "requirements.txt"
	fileConda        = "conda.yaml"
	maxMLmodelBytes  = 1 << 20
	maxDepsBytes     = 64 << 10
)

// enrich turns registry versions into Versions with their lineage facts,
// reading each kind of fact for the whole slice at once.
func (s *Service) enrich(ctx context.Context, mvs []modelregistry.ModelVersion) ([]Version, error) {
	out := make([]Version, len(mvs))
	if len(mvs) == 0 {
		return out, nil
	}
	keys := make([]VersionKey, len(mvs))
	for i, mv := range mvs {
		keys[i] = VersionKey{mv.Name, mv.Version}
		out[i] = Version{Model: mv.Name, Version: mv.Version, Description: mv.Description, Stage: mv.CurrentStage, Aliases: mv.Aliases,
			RunID: mv.RunID, Source: mv.Source, ArtifactURI: mv.StorageLocation, CreatedAt: millis(mv.CreationTime), CreatedBy: mv.UserID,
			Tags: map[string]string{}, Approval: Approval{Status: ApprovalPending}}
		if out[i].Aliases == nil {
			out[i].Aliases = []string{}
		}
		for _, t := range mv.Tags {
			out[i].Tags[t.Key] = t.Value
		}
	}
	if err := s.addFacts(ctx, mvs, keys, out); err != nil {
		return nil, err
	}
	approvals, err := s.Approvals.Approvals(ctx, keys)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if a, ok := approvals[k]; ok {
			out[i].Approval = a
		}
	}
	return out, s.addRuns(ctx, mvs, out)
}

// addFacts fills what the artifacts say, from the cache or, for versions
// not yet in it, from the artifact store (then cached).
func (s *Service) addFacts(ctx context.Context, mvs []modelregistry.ModelVersion, keys []VersionKey, out []Version) error {
	facts, err := s.Facts.ModelFacts(ctx, keys)
	if err != nil {
		return err
	}
	for i, k := range keys {
		f, ok := facts[k]
		if !ok {
			var cache bool
			f, cache = s.readFacts(ctx, mvs[i])
			if cache {
				if err := s.Facts.PutModelFacts(ctx, f); err != nil && ctx.Err() == nil {
					s.Log.Warn("cache model version facts", "model", k.Name, "version", k.Version, "err", err)
				}
			}
		}
		v := &out[i]
		v.Framework, v.Flavors, v.Digest, v.Signature, v.Requirements, v.Conda = f.Framework, f.Flavors, f.Digest, f.Signature, f.Requirements, f.Conda
	}
	return nil
}

// readFacts reads a version's MLmodel file (and requirements) from the
// artifact store. It reports whether the result should be cached: not
// when the MLmodel file is not there yet or the store failed, so a later
// read tries again.
func (s *Service) readFacts(ctx context.Context, mv modelregistry.ModelVersion) (Facts, bool) {
	f := Facts{Key: VersionKey{mv.Name, mv.Version}, ReadAt: s.Clock.Now().UnixMilli()}
	dir, ok := strings.CutPrefix(mv.StorageLocation, artifactScheme)
	dir = strings.Trim(dir, "/")
	if !ok || dir == "" {
		return f, true // an external URI: nothing to read, ever
	}
	if s.Artifacts == nil {
		return f, false
	}
	f.Available = true
	b, digest, err := s.readArtifact(ctx, dir+"/"+fileMLmodel, maxMLmodelBytes)
	if err != nil {
		if !errors.Is(err, fault.ErrNotFound) {
			s.Log.Warn("read MLmodel", "model", mv.Name, "version", mv.Version, "err", err)
		}
		return f, false
	}
	f.Digest = digest
	if f.Framework, f.Flavors, f.Signature, err = ParseMLmodel(b); err != nil {
		s.Log.Warn("parse MLmodel", "model", mv.Name, "version", mv.Version, "err", err)
	}
	if b, _, err := s.readArtifact(ctx, dir+"/"+fileRequirements, maxDepsBytes); err == nil {
		f.Requirements = string(b)
	}
	if b, _, err := s.readArtifact(ctx, dir+"/"+fileConda, maxDepsBytes); err == nil {
		f.Conda = string(b)
	}
	return f, true
}

// readArtifact reads up to max bytes of an artifact and returns the
// digest the store recorded for it when it was written (Stat).
func (s *Service) readArtifact(ctx context.Context, path string, max int64) ([]byte, string, error) {
	st, err := s.Artifacts.Stat(ctx, path)
	if err != nil {
		return nil, "", err
	}
	rc, _, err := s.Artifacts.Open(ctx, path)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max))
	if err != nil {
		return nil, "", err
	}
	return b, st.Digest, nil
}

// addRuns fills what the source runs tell: job, project, experiment,
// metrics, params, code, image and training datasets.
func (s *Service) addRuns(ctx context.Context, mvs []modelregistry.ModelVersion, out []Version) error {
	runOf := make([]string, len(mvs))
	var modelIDs []string
	for i, mv := range mvs {
		runOf[i] = mv.RunID
		if mv.RunID == "" && mv.ModelID != "" {
			modelIDs = append(modelIDs, mv.ModelID)
		}
	}
	if len(modelIDs) > 0 {
		m, err := s.Runs.LoggedModelRuns(ctx, modelIDs)
		if err != nil {
			return err
		}
		for i, mv := range mvs {
			if runOf[i] == "" && mv.ModelID != "" {
				runOf[i] = m[mv.ModelID]
			}
		}
	}
	var ids []string
	seen := map[string]bool{}
	for _, id := range runOf {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	runs, err := s.Runs.GetRuns(ctx, ids, TagJob, TagProject, TagImageDigest, TagGitRepo, TagGitCommit)
	if err != nil {
		return err
	}
	byID := make(map[string]*tracking.Run, len(runs))
	inputs := map[string][]tracking.DatasetInput{}
	var jobs []string
	for i := range runs {
		r := &runs[i]
		byID[r.Info.ID] = r
		if len(r.Inputs) > 0 {
			inputs[r.Info.ID] = r.Inputs
		}
		if job := tagOf(r.Tags, TagJob); job != "" && tagOf(r.Tags, TagGitRepo) == "" {
			jobs = append(jobs, job)
		}
	}
	code := map[string]Code{}
	if len(jobs) > 0 && s.Code != nil {
		if code, err = s.Code.JobCode(ctx, jobs); err != nil {
			return err
		}
	}
	matched := map[string][]datasets.Ref{}
	if len(inputs) > 0 && s.Datasets != nil {
		if matched, err = s.Datasets.MatchInputs(ctx, inputs); err != nil {
			return err
		}
	}
	for i := range out {
		r := byID[runOf[i]]
		if r == nil {
			continue
		}
		v := &out[i]
		v.RunID = r.Info.ID
		v.ExperimentID = r.Info.ExperimentID
		v.JobID, v.Project = tagOf(r.Tags, TagJob), tagOf(r.Tags, TagProject)
		v.ImageDigest = tagOf(r.Tags, TagImageDigest)
		v.CodeRepository, v.Commit = tagOf(r.Tags, TagGitRepo), tagOf(r.Tags, TagGitCommit)
		if c, ok := code[v.JobID]; ok && v.CodeRepository == "" {
			v.CodeRepository, v.Commit = c.Repository, firstOf(v.Commit, c.Commit)
		}
		v.Metrics = make(map[string]float64, len(r.Metrics))
		for _, m := range r.Metrics {
			if !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) { // JSON has neither
				v.Metrics[m.Key] = m.Value
			}
		}
		v.Params = make(map[string]string, len(r.Params))
		for _, p := range r.Params {
			v.Params[p.Key] = p.Value
		}
		v.Datasets = matched[r.Info.ID]
		sort.Slice(v.Datasets, func(a, b int) bool {
			if v.Datasets[a].Name != v.Datasets[b].Name {
				return v.Datasets[a].Name < v.Datasets[b].Name
			}
			return v.Datasets[a].Version < v.Datasets[b].Version
		})
	}
	return nil
}

func tagOf(tags []tracking.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
