"""Training: configuration, data split, and a real MLflow run on a tiny sample."""

import copy

import mlflow
import mlflow.sklearn
import pytest
from mlflow import MlflowClient

from train import build_model, compute_metrics, load_config, load_split, main, train

METRICS = {"accuracy", "f1", "precision", "recall", "roc_auc"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One throwaway MLflow tracking store (SQLite, registry included) for this module:
    creating its tables takes seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def tracking(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "pytest")
    monkeypatch.delenv("MLPORTAL_RUN_ID", raising=False)
    monkeypatch.delenv("MLPORTAL_CHECKPOINT_DIR", raising=False)
    mlflow.set_tracking_uri(store)
    yield store
    mlflow.set_tracking_uri(None)


def test_config_names_the_model(cfg):
    assert cfg["model_name"]
    assert cfg["evaluation"]["thresholds"]


def test_split_is_deterministic_and_stratified(cfg):
    a, b = load_split(cfg, sample=100), load_split(cfg, sample=100)
    assert list(a.x_test.index) == list(b.x_test.index)
    assert len(a.x_train) + len(a.x_test) == 100
    assert set(a.y_test) == set(a.y_train)
    assert not any(" " in c for c in a.x_train.columns)


@pytest.mark.parametrize("kind", ["logistic_regression", "gradient_boosting"])
def test_both_model_types_train(cfg, split, kind):
    c = copy.deepcopy(cfg)
    c["model"] = {"type": kind, "params": {}}
    model = build_model(c).fit(split.x_train, split.y_train)
    metrics = compute_metrics(model, split.x_test, split.y_test)
    assert set(metrics) == METRICS
    assert all(0.0 <= v <= 1.0 for v in metrics.values())


def test_unknown_model_type_is_refused(cfg):
    c = copy.deepcopy(cfg)
    c["model"]["type"] = "telepathy"
    with pytest.raises(ValueError, match="model.type"):
        build_model(c)


def test_train_on_tiny_sample_logs_and_registers(cfg, tracking, monkeypatch):
    monkeypatch.setenv("MLPORTAL_RUN_ID", "job-123")
    result = train(cfg, sample=80)

    assert set(result.metrics) == METRICS
    assert result.metrics["accuracy"] > 0.5
    assert result.model_version is not None
    client = MlflowClient()
    run = client.get_run(result.run_id)
    assert run.data.metrics["test_accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert run.data.params["model.type"] == cfg["model"]["type"]
    assert run.data.tags["mlportal.run_id"] == "job-123"
    assert client.get_model_version(cfg["model_name"], result.model_version).run_id == result.run_id
    uri = f"models:/{cfg['model_name']}/{result.model_version}"
    assert len(mlflow.sklearn.load_model(uri).predict(load_split(cfg, sample=80).x_test)) > 0
    info = mlflow.models.get_model_info(uri)
    assert info.signature is not None and info.saved_input_example_info is not None


def test_checkpoint_is_reused_by_a_restarted_job(cfg, tracking, tmp_path, monkeypatch):
    monkeypatch.setenv("MLPORTAL_CHECKPOINT_DIR", str(tmp_path / "ckpt"))
    first = train(cfg, sample=80, register=False)
    second = train(cfg, sample=80, register=False)
    client = MlflowClient()
    assert client.get_run(first.run_id).data.tags["mlportal.resumed"] == "false"
    assert client.get_run(second.run_id).data.tags["mlportal.resumed"] == "true"
    assert second.metrics == first.metrics
    assert second.model_version is None


def test_main_rejects_a_bad_config(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {dataset: imagenet}\nmodel: {}\nevaluation: {}\n")
    assert main(["--config", str(bad)]) == 2
    assert "data.dataset" in capsys.readouterr().err
    with pytest.raises(ValueError):
        load_config(bad)
