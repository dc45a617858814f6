// Package mlflowapi serves MLflow's REST API (/api/2.0/mlflow/… and the
// proxied artifact API /api/2.0/mlflow-artifacts/…) over mlportal's tracking,
// model registry and artifact store, so the standard `mlflow` Python client
// (2.x and 3.x) works unchanged with MLFLOW_TRACKING_URI set to mlportal and
// MLFLOW_TRACKING_TOKEN to an mlportal token.
//
// It speaks MLflow's wire format: snake_case JSON as MLflow's protobuf
// messages, GET parameters in the query string, and errors as
// {"error_code", "message"} with MLflow's status codes. That is why it has
// its own error presenter (Present) beside internal/httpapi's: the two APIs
// promise different error shapes to different clients, and each maps the
// same internal/fault kinds in exactly one place. It runs behind httpapi's
// middleware (request id, recovery, metrics, audit, authentication) as a
// mounted API; it does no authorization itself (the domain services do) and
// holds no business rules.
package mlflowapi
