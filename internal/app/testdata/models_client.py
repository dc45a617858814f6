"""A data scientist's workflow with the stock mlflow client, for internal/app's model registry test.

Trains twice: once on a dataset version whose quality report failed (logged by its content hash),
whose registration mlportal must refuse, and once on a good version (logged by its URI). Prints one
JSON line with what the Go test checks. Environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, and
BAD_HASH, GOOD_URI, MODEL.
"""
import json
import os

import mlflow
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

MODEL = os.environ["MODEL"]
mlflow.set_experiment("churn-client")
rng = np.random.default_rng(0)
df = pd.DataFrame({"age": rng.uniform(18, 90, 100), "tenure": rng.uniform(0, 10, 100)})
y = (df["age"] > 50).astype(int)


def train(dataset):
    with mlflow.start_run(tags={"mlportal.project": "churn"}) as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_params({"C": "1.0"})
        model = LogisticRegression(C=1.0).fit(df, y)
        mlflow.log_metric("accuracy", float(model.score(df, y)))
        info = mlflow.sklearn.log_model(model, name="model", input_example=df.head(3))
        return run.info.run_id, info.model_uri


out = {"mlflow": mlflow.__version__}
bad_run, bad_uri = train(mlflow.data.from_pandas(df, source="s3://data/churn/train.csv", name="train", digest=os.environ["BAD_HASH"]))
try:
    mlflow.register_model(bad_uri, MODEL)
    out["refused"] = ""
except mlflow.exceptions.MlflowException as e:
    out["refused"] = e.message
    out["refused_code"] = e.error_code
good_run, good_uri = train(mlflow.data.from_pandas(df, source=os.environ["GOOD_URI"], name="train"))
mv = mlflow.register_model(good_uri, MODEL)
out.update({"bad_run": bad_run, "good_run": good_run, "version": int(mv.version)})
print(json.dumps(out))
