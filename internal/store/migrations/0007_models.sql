-- mlportal schema v7: the registry view (facts read from model artifacts,
-- approvals), datasets with their quality reports, and the change feed.
-- Times are unix milliseconds, as the registry's.

-- What a model version's artifacts say (the MLmodel file, requirements),
-- read once from the artifact store and kept here so that listing many
-- models never re-reads artifacts. available = 0 records that the version's
-- artifacts are not in mlportal's artifact store (an external URI).
CREATE TABLE model_version_facts (
    name         TEXT NOT NULL,
    version      BIGINT NOT NULL,
    available    INTEGER NOT NULL,
    framework    TEXT NOT NULL DEFAULT '',
    flavors      TEXT NOT NULL DEFAULT '[]',
    digest       TEXT NOT NULL DEFAULT '',
    signature    TEXT NOT NULL DEFAULT '',
    requirements TEXT NOT NULL DEFAULT '',
    conda        TEXT NOT NULL DEFAULT '',
    read_at      BIGINT NOT NULL,
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE ON UPDATE CASCADE
);

-- A version's approval for production; absent means pending.
CREATE TABLE model_version_approvals (
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    status     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    time       BIGINT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE ON UPDATE CASCADE
);

-- Datasets: a name owned by a team, its versions numbered in order of
-- registration; one version per distinct content hash.
CREATE TABLE datasets (
    name          TEXT PRIMARY KEY,
    team          TEXT NOT NULL,
    next_version  BIGINT NOT NULL DEFAULT 1,
    creation_time BIGINT NOT NULL
);
CREATE INDEX datasets_team ON datasets (team, name);

CREATE TABLE dataset_versions (
    name           TEXT NOT NULL REFERENCES datasets(name) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    project        TEXT NOT NULL DEFAULT '',
    uri            TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    row_count      BIGINT,
    dataset_schema TEXT NOT NULL DEFAULT '',
    profile        TEXT NOT NULL DEFAULT '',
    quality        TEXT NOT NULL,
    quality_status TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    creation_time  BIGINT NOT NULL,
    PRIMARY KEY (name, version),
    UNIQUE (name, content_hash)
);
-- Matching a run's logged inputs to registered versions: by hash, by URI.
CREATE INDEX dataset_versions_hash ON dataset_versions (content_hash);
CREATE INDEX dataset_versions_uri ON dataset_versions (substr(uri, 1, 200));

-- The change feed: one row per change of a model, model version or
-- dataset, written in the transaction that made the change. seq comes from
-- tracking_sequences ('change'), whose row lock orders writers, so a reader
-- never sees seq n+1 committed before seq n.
INSERT INTO tracking_sequences (name, value) VALUES ('change', 0);
CREATE TABLE changes (
    seq     BIGINT PRIMARY KEY,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    op      TEXT NOT NULL,
    time    BIGINT NOT NULL
);
