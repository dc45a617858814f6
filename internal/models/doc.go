// Package models is mlportal's view of its model registry for people and
// the Backstage catalog: a registered model with its team, project,
// framework, stage, aliases, latest versions and deployments; versions
// enriched with their source run and job, the digest and signature of the
// MLmodel file, metrics and params, code repository and commit, image
// digest, the dataset versions they were trained on and their approval;
// the lineage graph dataset → run → model version → deployment; the
// model's TechDocs source tree; and the change feed the catalog follows.
//
// It reads the registry (internal/modelregistry's data), runs
// (internal/tracking's) and the artifact store through small interfaces,
// and keeps what it reads from artifacts (the MLmodel file, requirements)
// in a facts cache, filled as versions are registered (WarmFacts follows
// the change log) or on first read, so listing many models never re-reads
// them. Approvals are its only write. It does not register or move versions (that is
// modelregistry's job, through MLflow's API) and holds no SQL or HTTP.
package models
