"""Evaluation: threshold logic and the exit codes the pipeline gates on."""

import json

import mlflow.sklearn
import pytest
import yaml

from evaluate import check_thresholds, main
from train import DEFAULT_CONFIG, build_model, load_config, load_split, model_requirements


@pytest.mark.parametrize(
    "metrics, thresholds, failed",
    [
        ({"accuracy": 0.95, "f1": 0.94}, {"accuracy": 0.9, "f1": 0.9}, []),
        ({"accuracy": 0.90}, {"accuracy": 0.9}, []),  # equal passes
        ({"accuracy": 0.85, "f1": 0.95}, {"accuracy": 0.9, "f1": 0.9}, ["accuracy"]),
        ({"accuracy": 0.95}, {"accuracy": 0.9, "roc_auc": 0.8}, ["roc_auc"]),  # not computed
        ({"accuracy": 0.5}, {}, []),
        ({"accuracy": 0.5}, None, []),
    ],
)
def test_check_thresholds(metrics, thresholds, failed):
    failures = check_thresholds(metrics, thresholds)
    assert [f.split(":")[0] for f in failures] == failed


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    cfg = load_config(DEFAULT_CONFIG)
    split = load_split(cfg)
    path = tmp_path_factory.mktemp("model") / "model"
    model = build_model(cfg).fit(split.x_train, split.y_train)
    mlflow.sklearn.save_model(model, str(path), pip_requirements=model_requirements())
    return path


def config_with(tmp_path, thresholds):
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text())
    cfg["evaluation"]["thresholds"] = thresholds
    path = tmp_path / "hyperparams.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_passing_model_exits_zero_and_writes_metrics(model_dir, tmp_path):
    out = tmp_path / "metrics.json"
    code = main(["--model-uri", str(model_dir), "--config", str(config_with(tmp_path, {"accuracy": 0.8})),
                 "--output", str(out)])
    report = json.loads(out.read_text())
    assert code == 0
    assert report["passed"] is True
    assert report["failures"] == []
    assert report["metrics"]["accuracy"] >= 0.8
    assert report["model_uri"] == str(model_dir)


def test_threshold_not_met_exits_one(model_dir, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    code = main(["--model-uri", str(model_dir), "--config", str(config_with(tmp_path, {"accuracy": 1.01})),
                 "--output", str(out)])
    assert code == 1
    assert json.loads(out.read_text())["passed"] is False
    assert "accuracy" in capsys.readouterr().err


def test_missing_config_exits_two(model_dir, tmp_path):
    assert main(["--model-uri", str(model_dir), "--config", str(tmp_path / "nope.yaml")]) == 2
