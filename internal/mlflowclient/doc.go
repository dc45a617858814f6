// Package mlflowclient is a Go REST client for an existing MLflow tracking
// server: the subset of MLflow's REST API (experiments, runs, metrics,
// logged models, registered models, versions, aliases) that mlportal's
// remote repositories (internal/mlflowremote) need, in MLflow's own JSON
// field names.
//
// It authenticates with an optional bearer token or basic auth, bounds every
// call with a timeout, retries only idempotent reads (GET) on transport
// errors, 429 and 502–504, and maps MLflow's `{"error_code","message"}`
// errors to internal/fault kinds, keeping MLflow's error code in the message.
//
// It deliberately does not speak the artifact API (mlportal keeps serving
// artifacts from its own store), the tracing/GenAI endpoints, nor translate
// ids or teams: that is internal/mlflowremote's job.
package mlflowclient
