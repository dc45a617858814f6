package mlflowclient

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Int64 is an int64 that MLflow may send as a JSON number or string.
type Int64 int64

// UnmarshalJSON accepts 12 and "12".
func (n *Int64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	*n = Int64(v)
	return err
}

// Float is a float64 that may be NaN or ±Infinity, which MLflow writes as
// the strings "NaN", "Infinity" and "-Infinity".
type Float float64

// MarshalJSON writes non-finite values as MLflow's strings.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads numbers and MLflow's non-finite strings.
func (f *Float) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	switch s {
	case "NaN":
		*f = Float(math.NaN())
		return nil
	case "Infinity", "inf":
		*f = Float(math.Inf(1))
		return nil
	case "-Infinity", "-inf":
		*f = Float(math.Inf(-1))
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	*f = Float(v)
	return err
}

// Tag is a key/value label (experiments, runs, models, versions).
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Param is a run's or logged model's parameter.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Metric is one logged metric value.
type Metric struct {
	Key           string `json:"key"`
	Value         Float  `json:"value"`
	Timestamp     Int64  `json:"timestamp"`
	Step          Int64  `json:"step"`
	RunID         string `json:"run_id,omitempty"`
	ModelID       string `json:"model_id,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
}

// Experiment is MLflow's experiment.
type Experiment struct {
	ExperimentID     string `json:"experiment_id"`
	Name             string `json:"name"`
	ArtifactLocation string `json:"artifact_location"`
	LifecycleStage   string `json:"lifecycle_stage"`
	LastUpdateTime   Int64  `json:"last_update_time"`
	CreationTime     Int64  `json:"creation_time"`
	Tags             []Tag  `json:"tags"`
}

// RunInfo is a run's metadata.
type RunInfo struct {
	RunID          string `json:"run_id"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      Int64  `json:"start_time"`
	EndTime        Int64  `json:"end_time"`
	ArtifactURI    string `json:"artifact_uri"`
	LifecycleStage string `json:"lifecycle_stage"`
}

// RunData is a run's latest metrics, params and tags.
type RunData struct {
	Metrics []Metric `json:"metrics"`
	Params  []Param  `json:"params"`
	Tags    []Tag    `json:"tags"`
}

// Dataset describes data a run used.
type Dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

// DatasetInput is a dataset with its input tags.
type DatasetInput struct {
	Tags    []Tag   `json:"tags,omitempty"`
	Dataset Dataset `json:"dataset"`
}

// ModelInput is a logged model a run used.
type ModelInput struct {
	ModelID string `json:"model_id"`
}

// ModelOutput is a logged model a run produced.
type ModelOutput struct {
	ModelID string `json:"model_id"`
	Step    Int64  `json:"step"`
}

// RunInputs are a run's inputs.
type RunInputs struct {
	DatasetInputs []DatasetInput `json:"dataset_inputs"`
	ModelInputs   []ModelInput   `json:"model_inputs"`
}

// RunOutputs are a run's outputs.
type RunOutputs struct {
	ModelOutputs []ModelOutput `json:"model_outputs"`
}

// Run is a run with its data.
type Run struct {
	Info    RunInfo    `json:"info"`
	Data    RunData    `json:"data"`
	Inputs  RunInputs  `json:"inputs"`
	Outputs RunOutputs `json:"outputs"`
}

// LoggedModelInfo is a logged model's metadata (MLflow 3).
type LoggedModelInfo struct {
	ModelID                string `json:"model_id"`
	ExperimentID           string `json:"experiment_id"`
	Name                   string `json:"name"`
	CreationTimestampMS    Int64  `json:"creation_timestamp_ms"`
	LastUpdatedTimestampMS Int64  `json:"last_updated_timestamp_ms"`
	ArtifactURI            string `json:"artifact_uri"`
	Status                 string `json:"status"`
	StatusMessage          string `json:"status_message"`
	ModelType              string `json:"model_type"`
	SourceRunID            string `json:"source_run_id"`
	Tags                   []Tag  `json:"tags"`
}

// LoggedModelData is a logged model's params and metrics.
type LoggedModelData struct {
	Params  []Param  `json:"params"`
	Metrics []Metric `json:"metrics"`
}

// LoggedModel is an MLflow 3 logged model.
type LoggedModel struct {
	Info LoggedModelInfo `json:"info"`
	Data LoggedModelData `json:"data"`
}

// RegisteredModelAlias points an alias at a version.
type RegisteredModelAlias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is a registry model.
type RegisteredModel struct {
	Name                 string                 `json:"name"`
	CreationTimestamp    Int64                  `json:"creation_timestamp"`
	LastUpdatedTimestamp Int64                  `json:"last_updated_timestamp"`
	Description          string                 `json:"description"`
	LatestVersions       []ModelVersion         `json:"latest_versions"`
	Tags                 []Tag                  `json:"tags"`
	Aliases              []RegisteredModelAlias `json:"aliases"`
}

// ModelVersion is one version of a registered model.
type ModelVersion struct {
	Name                 string   `json:"name"`
	Version              string   `json:"version"`
	CreationTimestamp    Int64    `json:"creation_timestamp"`
	LastUpdatedTimestamp Int64    `json:"last_updated_timestamp"`
	UserID               string   `json:"user_id"`
	CurrentStage         string   `json:"current_stage"`
	Description          string   `json:"description"`
	Source               string   `json:"source"`
	RunID                string   `json:"run_id"`
	Status               string   `json:"status"`
	StatusMessage        string   `json:"status_message"`
	Tags                 []Tag    `json:"tags"`
	RunLink              string   `json:"run_link"`
	Aliases              []string `json:"aliases"`
	ModelID              string   `json:"model_id"`
}
