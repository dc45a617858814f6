-- mlportal schema v5: training and batch jobs (internal/jobs) and named
-- leases (one scheduler controller among replicas).
-- spec holds what was asked for (immutable), the other columns where the
-- job stands; the controller rewrites them with optimistic versions.

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    team         TEXT NOT NULL,
    project      TEXT NOT NULL,
    name         TEXT NOT NULL,
    state        TEXT NOT NULL,
    spec         TEXT NOT NULL,
    status       TEXT NOT NULL,
    gpu_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    finished_at  BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL
);
CREATE INDEX jobs_active ON jobs (state);
CREATE INDEX jobs_team ON jobs (team, id);
CREATE INDEX jobs_project ON jobs (team, project, id);

CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    owner  TEXT NOT NULL,
    until  BIGINT NOT NULL
);
