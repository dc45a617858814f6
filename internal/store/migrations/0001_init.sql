-- mlportal schema v1: portable SQL for SQLite and PostgreSQL.
-- Times are unix microseconds (BIGINT); ids are application-generated text.

CREATE TABLE teams (
    name            TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    backstage_group TEXT NOT NULL DEFAULT '',
    cost_center     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    version         BIGINT NOT NULL
);

CREATE TABLE team_members (
    team     TEXT NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    subject  TEXT NOT NULL,
    role     TEXT NOT NULL,
    PRIMARY KEY (team, position)
);

CREATE TABLE team_gpu_quotas (
    team            TEXT NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    gpu_type        TEXT NOT NULL,
    nominal         INTEGER NOT NULL,
    borrowing_limit INTEGER NOT NULL,
    PRIMARY KEY (team, position)
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    team       TEXT NOT NULL DEFAULT '',
    verbs      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_subject ON api_tokens (subject, id);

CREATE TABLE signing_keys (
    purpose     TEXT PRIMARY KEY,
    id          TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY,
    time       BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    status     INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_target ON audit_events (target, id);
CREATE INDEX audit_events_time ON audit_events (time);

CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0,
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    etag         TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
