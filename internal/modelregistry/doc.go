// Package modelregistry is mlportal's model registry, compatible with
// MLflow's: registered models owned by a team, their numbered versions (each
// recording its source run and artifact location), tags, stages (deprecated
// by MLflow, still answered) and aliases such as `champion`.
//
// Beyond MLflow it keeps a history of every stage transition and alias move:
// who moved what from which version or stage to which, when, and why (the
// version's `mlportal.reason` tag at that moment), and of every version
// registered or deleted (approvals are added by internal/models). History
// is what the portal's model pages and audits read. An optional
// DatasetGate refuses a version trained on data whose quality failed.
//
// It validates, authorizes against the owning team and resolves a version's
// source (`runs:/…`, `models:/<logged-model-id>`) to its artifact URI through
// the tracking data. It holds no SQL and no wire format.
package modelregistry
