// Package mlflowremote makes an existing MLflow server mlportal's system of
// record: it implements the repositories of internal/tracking and
// internal/modelregistry over internal/mlflowclient, so the tracking and
// registry services, the MLflow-compatible API and the jobs' runs work
// unchanged on top of it.
//
// What MLflow cannot express is kept where MLflow can hold it:
//   - teams stay the `mlportal.team` tag of experiments and registered models;
//   - mlportal chooses run and logged-model ids before it stores them, MLflow
//     assigns its own: the remote entity carries mlportal's id as the tag
//     `mlportal.run_id` / `mlportal.model_id`, and ids are translated both
//     ways (entities created directly on the server keep their MLflow id);
//   - the promotion history (stage and alias moves) is kept as registered
//     model tags `mlportal.history.<n>`, hidden from tag lists.
//
// Artifacts are not proxied: run and model artifact URIs stay
// mlflow-artifacts:/<experiment>/… served from mlportal's artifact store.
// It does not cache anything but id translations and experiment teams.
package mlflowremote
