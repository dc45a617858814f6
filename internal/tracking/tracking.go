package tracking

import (
	"math"
	"time"
)

// Lifecycle stages of experiments, runs.
const (
	StageActive  = "active"
	StageDeleted = "deleted"
)

// ViewType selects active, deleted or all entities in a search.
type ViewType int

// View types, numbered as MLflow's ViewType enum.
const (
	ViewActiveOnly  ViewType = 1
	ViewDeletedOnly ViewType = 2
	ViewAll         ViewType = 3
)

// Stages returns the lifecycle stages the view includes.
func (v ViewType) Stages() []string {
	switch v {
	case ViewDeletedOnly:
		return []string{StageDeleted}
	case ViewAll:
		return []string{StageActive, StageDeleted}
	}
	return []string{StageActive}
}

// RunStatus is a run's state, named as MLflow's RunStatus enum.
type RunStatus string

// Run statuses.
const (
	StatusRunning   RunStatus = "RUNNING"
	StatusScheduled RunStatus = "SCHEDULED"
	StatusFinished  RunStatus = "FINISHED"
	StatusFailed    RunStatus = "FAILED"
	StatusKilled    RunStatus = "KILLED"
)

// ValidStatus reports whether s is one of MLflow's run statuses.
func ValidStatus(s RunStatus) bool {
	switch s {
	case StatusRunning, StatusScheduled, StatusFinished, StatusFailed, StatusKilled:
		return true
	}
	return false
}

// Tag is a key/value label on an experiment, a run or a logged model.
type Tag struct {
	Key, Value string
}

// Param is a run's immutable input.
type Param struct {
	Key, Value string
}

// Metric is one logged value of a run's metric. Times are unix milliseconds.
type Metric struct {
	Key       string
	Value     float64
	Timestamp int64
	Step      int64
	// RunID is set in results that span runs (bulk history).
	RunID string
	// ModelID, DatasetName and DatasetDigest link the value to a logged
	// model and the dataset it was measured on (MLflow 3).
	ModelID       string
	DatasetName   string
	DatasetDigest string
}

// IsNaN reports whether the value is NaN, which SQL stores apart.
func (m Metric) IsNaN() bool { return math.IsNaN(m.Value) }

// Experiment groups runs. Its ID is a decimal string; "0" is Default.
type Experiment struct {
	ID               string
	Name             string
	Team             string // owning team; "" for the shared Default experiment
	ArtifactLocation string
	LifecycleStage   string
	CreationTime     int64
	LastUpdateTime   int64
	Tags             []Tag
}

// RunInfo is a run's metadata.
type RunInfo struct {
	ID             string
	ExperimentID   string
	Name           string
	UserID         string
	Status         RunStatus
	StartTime      int64
	EndTime        int64 // 0 while unset
	ArtifactURI    string
	LifecycleStage string
	// Team is the owning experiment's team, for authorization.
	Team string
}

// Run is a run with its data.
type Run struct {
	Info    RunInfo
	Metrics []Metric // the latest value of each key
	Params  []Param
	Tags    []Tag
	Inputs  []DatasetInput
	// ModelInputs and ModelOutputs are logged model ids (MLflow 3).
	ModelInputs  []string
	ModelOutputs []ModelOutput
}

// Dataset describes data a run used.
type Dataset struct {
	Name, Digest, SourceType, Source, Schema, Profile string
}

// DatasetInput is a dataset a run used, with tags such as mlflow.data.context.
type DatasetInput struct {
	Dataset Dataset
	Tags    []Tag
}

// ModelOutput is a logged model a run produced, at a step.
type ModelOutput struct {
	ModelID string
	Step    int64
}

// LoggedModelStatus is a logged model's upload state (MLflow 3).
type LoggedModelStatus string

// Logged model statuses, named as MLflow's enum.
const (
	ModelPending      LoggedModelStatus = "LOGGED_MODEL_PENDING"
	ModelReady        LoggedModelStatus = "LOGGED_MODEL_READY"
	ModelUploadFailed LoggedModelStatus = "LOGGED_MODEL_UPLOAD_FAILED"
)

// LoggedModel is an MLflow 3 logged model: a model's artifacts and metadata,
// produced by a run or logged on its own.
type LoggedModel struct {
	ID             string
	ExperimentID   string
	Name           string
	ArtifactURI    string
	Status         LoggedModelStatus
	StatusMessage  string
	ModelType      string
	SourceRunID    string
	CreationTime   int64
	LastUpdateTime int64
	LifecycleStage string
	Tags           []Tag
	Params         []Param
	Metrics        []Metric
	Team           string
}

// Batch is what one log-batch call writes.
type Batch struct {
	Metrics []Metric
	Params  []Param
	Tags    []Tag
}

// Page is a request for one page of search results.
type Page struct {
	MaxResults int
	Token      string // opaque, from the previous page
}

func millis(t time.Time) int64 { return t.UnixMilli() }
