package models

import (
	"time"

	"github.com/mlportal/mlportal/internal/datasets"
)

// Model is a registered model as the portal shows it.
type Model struct {
	Name        string
	Team        string
	Project     string // the model's mlportal.project tag, else its newest version's run's
	Description string
	Framework   string // the newest version's
	// Stage is the highest stage any version holds: Production, Staging,
	// None, Archived (in that order); "" for a model without versions.
	Stage        string
	ExperimentID string // the newest version's run's experiment
	Aliases      map[string]int64
	// LatestVersions is the newest version of each stage, oldest first.
	LatestVersions []Version
	Deployments    []Deployment
	Tags           map[string]string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Version is a model version with its lineage facts.
type Version struct {
	Model          string
	Version        int64
	Description    string
	Stage          string
	Aliases        []string
	RunID          string
	JobID          string
	ExperimentID   string
	Project        string // the run's mlportal.project tag
	Source         string
	ArtifactURI    string
	Digest         string // sha256: of the MLmodel file as stored
	Framework      string
	Flavors        []string
	Signature      *Signature
	Metrics        map[string]float64
	Params         map[string]string
	CodeRepository string
	Commit         string
	ImageDigest    string
	Datasets       []datasets.Ref
	Approval       Approval
	Tags           map[string]string
	CreatedAt      time.Time
	CreatedBy      string
	// Requirements and Conda are the version's requirements.txt and
	// conda.yaml as stored with the model ("" when absent); model docs
	// show them.
	Requirements string
	Conda        string
}

// Signature is a model's input and output schema (MLflow's signature).
type Signature struct {
	Inputs  []ColumnSpec
	Outputs []ColumnSpec
}

// ColumnSpec is one input or output: a named column, or a tensor.
type ColumnSpec struct {
	Name     string
	Type     string // double, long, string, …, or tensor:<dtype>
	Shape    []int  // tensors only; -1 = any length
	Optional bool
}

// Approval statuses.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
)

// Approval is a version's approval for production.
type Approval struct {
	Status  string
	By      string
	At      time.Time
	Comment string
}

// Deployment is where a version serves. None exist yet: serving is built
// later; the field keeps its place in the API.
type Deployment struct {
	Environment string
	Version     int64
	State       string
	URL         string
	Since       time.Time
}

// VersionKey names one model version.
type VersionKey struct {
	Name    string
	Version int64
}

// Facts is what a version's artifacts say, cached.
type Facts struct {
	Key VersionKey
	// Available is false when the version's artifacts are not in
	// mlportal's artifact store (an external URI): nothing to read.
	Available    bool
	Framework    string
	Flavors      []string
	Digest       string
	Signature    *Signature
	Requirements string
	Conda        string
	ReadAt       int64 // unix milliseconds
}

// Filter narrows a model listing.
type Filter struct {
	Team    string
	Project string
	// Query keeps models whose name contains it (case-insensitive).
	Query string
}

// EventKind is what a history event changed, as the API names it.
type EventKind string

// Event kinds of a model's history.
const (
	EventAliasSet        EventKind = "alias-set"
	EventAliasDeleted    EventKind = "alias-deleted"
	EventStageChanged    EventKind = "stage-changed"
	EventVersionCreated  EventKind = "version-created"
	EventVersionDeleted  EventKind = "version-deleted"
	EventApprovalChanged EventKind = "approval-changed"
	EventDeployed        EventKind = "deployed"
)

// Event is one entry of a model's history.
type Event struct {
	ID      int64
	Kind    EventKind
	Version int64
	Alias   string
	From    string
	To      string
	Reason  string
	Actor   string
	At      time.Time
}
