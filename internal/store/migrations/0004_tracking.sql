-- mlportal schema v4: MLflow-compatible tracking and model registry.
-- Times are unix milliseconds, as MLflow's. Metric values that are NaN are
-- stored as 0 with is_nan = 1 (SQLite has no NaN).
-- Long text values (params, tags) are indexed on a 200-character prefix and
-- their length, so PostgreSQL's b-tree size limit never refuses a row and an
-- equality test on a value of up to 200 characters is answered by the index
-- alone.

CREATE TABLE tracking_sequences (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO tracking_sequences (name, value) VALUES ('experiment', 0);
INSERT INTO tracking_sequences (name, value) VALUES ('registry_event', 0);

CREATE TABLE experiments (
    id                BIGINT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    team              TEXT NOT NULL DEFAULT '',
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL,
    creation_time     BIGINT NOT NULL,
    last_update_time  BIGINT NOT NULL
);
INSERT INTO experiments (id, name, team, artifact_location, lifecycle_stage, creation_time, last_update_time)
VALUES (0, 'Default', '', 'mlflow-artifacts:/0', 'active', 0, 0);

CREATE TABLE experiment_tags (
    experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    experiment_id   BIGINT NOT NULL REFERENCES experiments(id),
    name            TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    status          TEXT NOT NULL,
    start_time      BIGINT NOT NULL,
    end_time        BIGINT,
    artifact_uri    TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL,
    deleted_time    BIGINT
);
CREATE INDEX runs_experiment_start ON runs (experiment_id, start_time, id);
-- Covers what run search reads of a run while it filters and sorts.
CREATE INDEX runs_search ON runs (id, experiment_id, lifecycle_stage, start_time);

CREATE TABLE run_params (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_params_key_value ON run_params (key, substr(value, 1, 200), length(value), run_id);

CREATE TABLE run_tags (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_tags_key_value ON run_tags (key, substr(value, 1, 200), length(value), run_id);

-- Every logged value: the history get-history reads.
CREATE TABLE run_metrics (
    run_id         TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    step           BIGINT NOT NULL,
    timestamp      BIGINT NOT NULL,
    value          DOUBLE PRECISION NOT NULL,
    is_nan         INTEGER NOT NULL,
    model_id       TEXT NOT NULL DEFAULT '',
    dataset_name   TEXT NOT NULL DEFAULT '',
    dataset_digest TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, key, step, timestamp, value, is_nan)
);

-- The latest value of each (run, key), maintained on write: what run search
-- filters and orders on, through the (key, value) index.
CREATE TABLE run_latest_metrics (
    run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    is_nan    INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_latest_metrics_key_value ON run_latest_metrics (key, value, run_id);
-- Covers the per-run lookup of a metric's value that filters and sorts use.
CREATE INDEX run_latest_metrics_run ON run_latest_metrics (run_id, key, is_nan, value);

CREATE TABLE run_inputs (
    run_id         TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    digest         TEXT NOT NULL DEFAULT '',
    source_type    TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL DEFAULT '',
    dataset_schema TEXT NOT NULL DEFAULT '',
    profile        TEXT NOT NULL DEFAULT '',
    context        TEXT NOT NULL DEFAULT '',
    tags           TEXT NOT NULL DEFAULT '[]',
    model_id       TEXT NOT NULL DEFAULT '',
    step           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX run_inputs_dataset ON run_inputs (name, digest);

CREATE TABLE logged_models (
    id               TEXT PRIMARY KEY,
    experiment_id    BIGINT NOT NULL REFERENCES experiments(id),
    name             TEXT NOT NULL,
    artifact_uri     TEXT NOT NULL,
    status           TEXT NOT NULL,
    status_message   TEXT NOT NULL DEFAULT '',
    model_type       TEXT NOT NULL DEFAULT '',
    source_run_id    TEXT NOT NULL DEFAULT '',
    creation_time    BIGINT NOT NULL,
    last_update_time BIGINT NOT NULL,
    lifecycle_stage  TEXT NOT NULL
);
CREATE INDEX logged_models_experiment ON logged_models (experiment_id, creation_time, id);

CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE registered_models (
    name             TEXT PRIMARY KEY,
    team             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    creation_time    BIGINT NOT NULL,
    last_update_time BIGINT NOT NULL,
    next_version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX registered_models_updated ON registered_models (last_update_time, name);

CREATE TABLE registered_model_tags (
    name  TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
);

CREATE TABLE model_versions (
    name             TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
    version          BIGINT NOT NULL,
    creation_time    BIGINT NOT NULL,
    last_update_time BIGINT NOT NULL,
    user_id          TEXT NOT NULL DEFAULT '',
    current_stage    TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL,
    storage_location TEXT NOT NULL,
    run_id           TEXT NOT NULL DEFAULT '',
    run_link         TEXT NOT NULL DEFAULT '',
    model_id         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    status_message   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_run ON model_versions (run_id);
CREATE INDEX model_versions_stage ON model_versions (name, current_stage, version);

CREATE TABLE model_version_tags (
    name    TEXT NOT NULL,
    version BIGINT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (name, version, key),
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE registered_model_aliases (
    name    TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE ON UPDATE CASCADE,
    alias   TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (name, alias)
);

-- Who moved which stage or alias, from what to what, when and why. Kept when
-- the model is deleted: it is an audit record.
CREATE TABLE registry_events (
    id      BIGINT PRIMARY KEY,
    model   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    alias   TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL,
    from_value TEXT NOT NULL DEFAULT '',
    to_value   TEXT NOT NULL DEFAULT '',
    actor   TEXT NOT NULL,
    time    BIGINT NOT NULL,
    reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX registry_events_model ON registry_events (model, id);
