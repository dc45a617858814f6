"""Shared fixtures: the project's configuration and a model fitted on a small sample."""

import pytest

from train import DEFAULT_CONFIG, build_model, load_config, load_split

SAMPLE = 120


@pytest.fixture(scope="session")
def cfg():
    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="session")
def split(cfg):
    return load_split(cfg, sample=SAMPLE)


@pytest.fixture(scope="session")
def fitted(cfg, split):
    model = build_model(cfg)
    model.fit(split.x_train, split.y_train)
    return model
