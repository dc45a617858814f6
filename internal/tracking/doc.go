// Package tracking is mlportal's experiment tracking, compatible with MLflow's:
// experiments, runs with their params, metrics, tags and dataset inputs, logged
// models (MLflow 3), and MLflow's search filter and order-by grammar, parsed
// into an AST that the store compiles to SQL.
//
// It validates input with MLflow's limits (1,000 metrics, 100 params and 100
// tags per batch; immutable params), assigns ids from injected sources, decides
// which team owns an experiment and authorizes every call against it. It holds
// no SQL and no wire format: internal/store persists, internal/mlflowapi speaks
// MLflow's REST dialect.
package tracking
