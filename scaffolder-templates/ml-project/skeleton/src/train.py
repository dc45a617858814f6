"""Train the project's model and record it in MLflow.

    python src/train.py [--config config/hyperparams.yaml] [--sample N] [--no-register]

Reads the configuration, trains a scikit-learn estimator on a dataset shipped with
scikit-learn, and logs parameters, held-out metrics and the model (with signature and input
example) to MLflow. When MLFLOW_TRACKING_URI is set the model is also registered under the
configured model name; without it MLflow writes to ./mlflow.db and nothing is registered.

Environment:
    MLFLOW_TRACKING_URI       tracking server or store; enables registration
    MLFLOW_EXPERIMENT_NAME    overrides the configured experiment
    MLPORTAL_RUN_ID           set by mlportal on its training jobs; tagged on the MLflow run
    MLPORTAL_CHECKPOINT_DIR   set by mlportal; the fitted model is saved there, and a restarted
                              job (same configuration) reuses it instead of fitting again
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
import yaml
from mlflow.models import infer_signature
from sklearn import datasets
from sklearn.base import BaseEstimator
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "hyperparams.yaml"
MODEL_ARTIFACT = "model"

log = logging.getLogger("train")

_DATASETS = {
    "breast_cancer": datasets.load_breast_cancer,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
}


@dataclass
class Split:
    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


@dataclass
class Result:
    metrics: dict[str, float]
    run_id: str | None = None
    model_uri: str | None = None
    model_version: str | None = None


def load_config(path: str | os.PathLike = DEFAULT_CONFIG) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    for section in ("data", "model", "evaluation"):
        if not isinstance(cfg.get(section), dict):
            raise ValueError(f"{path}: missing section {section!r}")
    if cfg["data"].get("dataset") not in _DATASETS:
        raise ValueError(f"{path}: data.dataset must be one of {sorted(_DATASETS)}")
    return cfg


def load_split(cfg: dict[str, Any], sample: int | None = None) -> Split:
    """Loads the configured dataset and splits it the same way every time.

    Feature names have spaces replaced by underscores so they are valid column and tensor
    names. sample, when given, keeps a stratified subset of that many rows (for tests).
    """
    data = cfg["data"]
    bunch = _DATASETS[data["dataset"]](as_frame=True)
    x = bunch.data.rename(columns=lambda c: c.strip().replace(" ", "_"))
    y = bunch.target
    seed = data.get("random_state", 42)
    if sample is not None and sample < len(x):
        x, _, y, _ = train_test_split(x, y, train_size=sample, stratify=y, random_state=seed)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=data.get("test_size", 0.25), stratify=y, random_state=seed
    )
    return Split(x_train, x_test, y_train, y_test)


def build_model(cfg: dict[str, Any]) -> BaseEstimator:
    kind = cfg["model"].get("type", "logistic_regression")
    params = dict(cfg["model"].get("params") or {})
    params.setdefault("random_state", cfg["data"].get("random_state", 42))
    if kind == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(**params))
    if kind == "gradient_boosting":
        return GradientBoostingClassifier(**params)
    raise ValueError(f"model.type must be logistic_regression or gradient_boosting, not {kind!r}")


def compute_metrics(model: BaseEstimator, x: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """Accuracy, F1, precision, recall and ROC AUC; multiclass scores are macro averages."""
    predicted = model.predict(x)
    binary = y.nunique() <= 2
    average = "binary" if binary else "macro"
    metrics = {
        "accuracy": accuracy_score(y, predicted),
        "f1": f1_score(y, predicted, average=average, zero_division=0),
        "precision": precision_score(y, predicted, average=average, zero_division=0),
        "recall": recall_score(y, predicted, average=average, zero_division=0),
    }
    if hasattr(model, "predict_proba") and y.nunique() > 1:
        proba = model.predict_proba(x)
        if binary:
            metrics["roc_auc"] = roc_auc_score(y, proba[:, 1])
        else:
            metrics["roc_auc"] = roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_)
    return {name: float(value) for name, value in metrics.items()}


def model_requirements() -> list[str]:
    """The pip requirements recorded with the model: what loading it needs, at the versions
    installed now. Stating them spares MLflow inferring them in a subprocess (tens of seconds).
    """
    return [f"{p}=={installed_version(p)}" for p in ("mlflow", "scikit-learn", "pandas", "numpy", "skops")]


def config_digest(cfg: dict[str, Any], sample: int | None) -> str:
    text = json.dumps({"config": cfg, "sample": sample}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fit(cfg: dict[str, Any], split: Split, checkpoint_dir: str | None, digest: str) -> tuple[BaseEstimator, bool]:
    """Fits the model, or reuses the checkpoint a previous attempt of the same job left."""
    if checkpoint_dir:
        ckpt = Path(checkpoint_dir)
        marker = ckpt / "checkpoint.json"
        if marker.exists() and json.loads(marker.read_text()).get("digest") == digest:
            log.info("resuming from checkpoint %s", ckpt)
            return mlflow.sklearn.load_model(str(ckpt / MODEL_ARTIFACT)), True
    model = build_model(cfg)
    model.fit(split.x_train, split.y_train)
    if checkpoint_dir:
        ckpt = Path(checkpoint_dir)
        ckpt.mkdir(parents=True, exist_ok=True)
        target = ckpt / MODEL_ARTIFACT
        if target.exists():
            shutil.rmtree(target)
        mlflow.sklearn.save_model(model, str(target), pip_requirements=model_requirements())
        (ckpt / "checkpoint.json").write_text(json.dumps({"digest": digest}))
    return model, False


def train(cfg: dict[str, Any], *, sample: int | None = None, register: bool | None = None) -> Result:
    """Trains, evaluates on the held-out split and logs everything to MLflow.

    register defaults to whether MLFLOW_TRACKING_URI is set.
    """
    if register is None:
        register = bool(os.environ.get("MLFLOW_TRACKING_URI"))
    mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or cfg.get("experiment") or cfg["project"])
    mlportal_run = os.environ.get("MLPORTAL_RUN_ID")
    digest = config_digest(cfg, sample)
    split = load_split(cfg, sample)

    with mlflow.start_run(run_name=mlportal_run) as run:
        mlflow.set_tags(
            {
                "mlportal.project": cfg.get("project", ""),
                "mlportal.run_id": mlportal_run or "",
                "config_digest": digest,
            }
        )
        params = {f"model.{k}": v for k, v in (cfg["model"].get("params") or {}).items()}
        params.update(
            {
                "model.type": cfg["model"].get("type", "logistic_regression"),
                "data.dataset": cfg["data"]["dataset"],
                "data.test_size": cfg["data"].get("test_size", 0.25),
                "data.random_state": cfg["data"].get("random_state", 42),
                "data.rows_train": len(split.x_train),
                "data.rows_test": len(split.x_test),
            }
        )
        mlflow.log_params(params)

        model, resumed = fit(cfg, split, os.environ.get("MLPORTAL_CHECKPOINT_DIR"), digest)
        mlflow.set_tag("mlportal.resumed", str(resumed).lower())
        metrics = compute_metrics(model, split.x_test, split.y_test)
        mlflow.log_metrics({f"test_{name}": value for name, value in metrics.items()})
        mlflow.log_metric("train_accuracy", compute_metrics(model, split.x_train, split.y_train)["accuracy"])

        example = split.x_train.head(3)
        info = mlflow.sklearn.log_model(
            model,
            name=MODEL_ARTIFACT,
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            pip_requirements=model_requirements(),
            registered_model_name=cfg["model_name"] if register else None,
        )
        version = info.registered_model_version
        return Result(
            metrics=metrics,
            run_id=run.info.run_id,
            model_uri=info.model_uri,
            model_version=str(version) if version is not None else None,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="hyperparameter file")
    parser.add_argument("--sample", type=int, help="train on a stratified sample of N rows")
    parser.add_argument("--output", help="also write the result as JSON to this file")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--register", dest="register", action="store_true", default=None,
                       help="register the model (default: when MLFLOW_TRACKING_URI is set)")
    group.add_argument("--no-register", dest="register", action="store_false")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    try:
        cfg = load_config(args.config)
    except (OSError, ValueError, yaml.YAMLError) as err:
        print(f"train: {err}", file=sys.stderr)
        return 2
    result = train(cfg, sample=args.sample, register=args.register)
    summary = {
        "run_id": result.run_id,
        "model_uri": result.model_uri,
        "registered_model": cfg["model_name"] if result.model_version else None,
        "model_version": result.model_version,
        "metrics": result.metrics,
    }
    text = json.dumps(summary, indent=2, sort_keys=True)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
