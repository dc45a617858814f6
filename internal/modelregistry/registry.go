package modelregistry

import (
	"strings"

	"github.com/mlportal/mlportal/internal/tracking"
)

// Stages of a model version (MLflow's deprecated stage workflow).
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"
)

// CanonicalStage returns the stage's canonical spelling, or false.
func CanonicalStage(s string) (string, bool) {
	for _, c := range []string{StageNone, StageStaging, StageProduction, StageArchived} {
		if strings.EqualFold(s, c) {
			return c, true
		}
	}
	return "", false
}

// Version statuses.
const (
	StatusPending = "PENDING_REGISTRATION"
	StatusFailed  = "FAILED_REGISTRATION"
	StatusReady   = "READY"
)

// Alias points a name such as `champion` at a version.
type Alias struct {
	Alias   string
	Version int64
}

// RegisteredModel is a named model owned by a team.
type RegisteredModel struct {
	Name            string
	Team            string
	Description     string
	CreationTime    int64 // unix milliseconds
	LastUpdatedTime int64
	Tags            []tracking.Tag
	Aliases         []Alias
	// LatestVersions holds the newest version of each stage.
	LatestVersions []ModelVersion
}

// ModelVersion is one registered version of a model.
type ModelVersion struct {
	Name            string
	Version         int64
	CreationTime    int64
	LastUpdatedTime int64
	UserID          string
	CurrentStage    string
	Description     string
	// Source is what the client registered (runs:/…, models:/m-…, or a URI).
	Source string
	// StorageLocation is the artifact URI the source resolves to; the
	// download URI.
	StorageLocation string
	RunID           string
	RunLink         string
	ModelID         string
	Status          string
	StatusMessage   string
	Tags            []tracking.Tag
	Aliases         []string
	Team            string
}

// EventKind says what an Event changed.
type EventKind string

// Event kinds.
const (
	EventStage EventKind = "stage"
	EventAlias EventKind = "alias"
	// EventVersionCreated and EventVersionDeleted record a version's
	// registration and deletion (To and From are empty).
	EventVersionCreated EventKind = "version-created"
	EventVersionDeleted EventKind = "version-deleted"
	// EventApproval records an approval decision: From and To are the
	// approval statuses (pending, approved, rejected), Reason the comment.
	EventApproval EventKind = "approval-changed"
)

// Event is one entry of a model's promotion history: a version's stage
// transition, an alias set, moved or deleted, a version registered or
// deleted, or an approval decision.
type Event struct {
	ID      int64
	Model   string
	Kind    EventKind
	Alias   string // alias events
	Version int64  // the version moved to (alias) or transitioned (stage); 0 when an alias is deleted
	// From and To are stages for stage events and version numbers (as
	// text, "" for none) for alias events.
	From, To string
	Actor    string
	Time     int64
	Reason   string
}

// TagReason is the version tag whose value is recorded as an event's reason.
const TagReason = "mlportal.reason"

// ModelQuery is a search over registered models.
type ModelQuery struct {
	Filter     tracking.Filter
	OrderBy    []tracking.OrderBy
	MaxResults int
	PageToken  string
}

// VersionQuery is a search over model versions.
type VersionQuery struct {
	Filter     tracking.Filter
	OrderBy    []tracking.OrderBy
	MaxResults int
	PageToken  string
}
