"""The workflow a data scientist runs with the stock mlflow client against mlportal.

Run by internal/mlflowapi's TestMLflowClient with MLFLOW_TRACKING_URI pointing at mlportal and
MLFLOW_TRACKING_TOKEN set to a team token. Works with mlflow 2.x and 3.x. Prints one JSON line
with what the Go test checks; any failure raises (exit code 1).
"""
import json
import os
import sys
import tempfile

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from sklearn.linear_model import LogisticRegression

MAJOR = int(mlflow.__version__.split(".")[0])
EXPERIMENT = sys.argv[1]
MODEL = sys.argv[2]

client = MlflowClient()
exp_id = client.create_experiment(EXPERIMENT, tags={"purpose": "it"})
mlflow.set_experiment(EXPERIMENT)

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int)

run_ids = []
for i, (c, solver) in enumerate([(0.1, "lbfgs"), (1.0, "lbfgs"), (10.0, "liblinear")]):
    with mlflow.start_run(run_name=f"train-{i}") as run:
        run_id = run.info.run_id
        run_ids.append(run_id)
        mlflow.log_params({"C": str(c), "solver": solver})
        ts = 1_700_000_000_000
        client.log_batch(run_id, metrics=[Metric("rmse", 1.0 - 0.1 * i - 0.01 * s, ts + s, s) for s in range(5)],
                         params=[Param("seed", "0")], tags=[RunTag("team.note", f"candidate-{i}")])
        mlflow.log_metric("accuracy", 0.8 + 0.05 * i)
        mlflow.set_tag("stage", "dev")
        model = LogisticRegression(C=c, solver=solver).fit(X, y)
        with tempfile.TemporaryDirectory() as d:
            notes = os.path.join(d, "notes.txt")
            with open(notes, "w") as f:
                f.write(f"candidate {i}\n")
            mlflow.log_artifact(notes)
        if i == 2:
            if MAJOR >= 3:
                info = mlflow.sklearn.log_model(model, name="model", input_example=X[:2])
            else:
                info = mlflow.sklearn.log_model(model, artifact_path="model", input_example=X[:2])
            model_uri = info.model_uri
            best_run = run_id

mv = mlflow.register_model(model_uri, MODEL)
client.set_registered_model_alias(MODEL, "champion", mv.version)
client.set_model_version_tag(MODEL, mv.version, "mlportal.reason", "best rmse")
loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
predictions = [int(p) for p in loaded.predict(X[:5])]

found = mlflow.search_runs(experiment_ids=[exp_id], filter_string="metrics.rmse < 0.95 and params.solver = 'lbfgs'",
                           order_by=["metrics.rmse DESC"], output_format="list")
like = client.search_runs([exp_id], filter_string="tags.`mlflow.runName` LIKE 'train-%' and attributes.status = 'FINISHED'",
                          order_by=["attributes.start_time ASC"])
history = client.get_metric_history(best_run, "rmse")
staged = client.transition_model_version_stage(MODEL, mv.version, "Staging")
artifacts = sorted(a.path for a in client.list_artifacts(best_run))
with tempfile.TemporaryDirectory() as d:
    local = mlflow.artifacts.download_artifacts(run_id=best_run, artifact_path="notes.txt", dst_path=d)
    with open(local) as f:
        notes = f.read()
by_alias = client.get_model_version_by_alias(MODEL, "champion")
models = client.search_registered_models(filter_string=f"name = '{MODEL}'")
versions = client.search_model_versions(f"name = '{MODEL}'")
print(json.dumps({
    "mlflow": mlflow.__version__,
    "predictions": predictions,
    "found": [r.info.run_id for r in found],
    "found_rmse": [r.data.metrics["rmse"] for r in found],
    "like": [r.info.run_name for r in like],
    "history": [[m.step, m.value] for m in history],
    "stage": staged.current_stage,
    "artifacts": artifacts,
    "notes": notes,
    "alias_version": by_alias.version,
    "version": mv.version,
    "models": [m.name for m in models],
    "versions": [v.version for v in versions],
    "run_ids": run_ids,
    "best_run": best_run,
}))
