"""Evaluate a model on the held-out split and gate on the configured thresholds.

    python src/evaluate.py --model-uri URI [--config config/hyperparams.yaml] [--output metrics.json]
    python src/evaluate.py --mlportal-run-id ID ...

URI is any MLflow model URI (models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN/model, a local
directory). --mlportal-run-id finds the model of the MLflow run that mlportal training job ID
logged (train.py tags it mlportal.run_id). The held-out split is the one train.py used.

Writes metrics.json ({model_uri, metrics, thresholds, failures, passed}) and exits 0 when every
threshold in evaluation.thresholds is met, 1 when one is not, 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import mlflow
import mlflow.sklearn

from train import DEFAULT_CONFIG, MODEL_ARTIFACT, compute_metrics, load_config, load_split


def check_thresholds(metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """Returns one message per threshold not met; a metric that was not computed fails."""
    failures = []
    for name, minimum in sorted((thresholds or {}).items()):
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: not computed (known: {', '.join(sorted(metrics))})")
        elif value < float(minimum):
            failures.append(f"{name}: {value:.4f} < {float(minimum):.4f}")
    return failures


def model_uri_for_mlportal_run(mlportal_run_id: str) -> str:
    """The model URI of the MLflow run tagged with the given mlportal run id."""
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`mlportal.run_id` = '{mlportal_run_id}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not runs:
        raise LookupError(f"no MLflow run is tagged mlportal.run_id={mlportal_run_id}")
    return f"runs:/{runs[0].info.run_id}/{MODEL_ARTIFACT}"


def evaluate(model_uri: str, cfg: dict) -> dict:
    model = mlflow.sklearn.load_model(model_uri)
    split = load_split(cfg)
    metrics = compute_metrics(model, split.x_test, split.y_test)
    thresholds = cfg["evaluation"].get("thresholds") or {}
    failures = check_thresholds(metrics, thresholds)
    return {
        "model_uri": model_uri,
        "metrics": metrics,
        "thresholds": thresholds,
        "failures": failures,
        "passed": not failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-uri", help="MLflow model URI or local model directory")
    source.add_argument("--mlportal-run-id", help="evaluate the model this mlportal job logged")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="hyperparameter file")
    parser.add_argument("--output", default="metrics.json", help="where to write the report")
    args = parser.parse_args(argv)

    try:
        cfg = load_config(args.config)
        uri = args.model_uri or model_uri_for_mlportal_run(args.mlportal_run_id)
    except (OSError, ValueError, LookupError) as err:
        print(f"evaluate: {err}", file=sys.stderr)
        return 2
    report = evaluate(uri, cfg)
    Path(args.output).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name, value in sorted(report["metrics"].items()):
        print(f"{name:>10}: {value:.4f}")
    if report["failures"]:
        print("evaluation FAILED: " + "; ".join(report["failures"]), file=sys.stderr)
        return 1
    print(f"evaluation passed; report in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
