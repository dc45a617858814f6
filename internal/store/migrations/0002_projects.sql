-- mlportal schema v2: ML projects and the state of their bootstrap saga.
-- Steps and overrides are JSON text; the saga rewrites them as a whole.

CREATE TABLE projects (
    id               TEXT PRIMARY KEY,
    team             TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    template         TEXT NOT NULL,
    template_version TEXT NOT NULL,
    overrides        TEXT NOT NULL DEFAULT '{}',
    scm              TEXT NOT NULL,
    repo_url         TEXT NOT NULL DEFAULT '',
    namespace        TEXT NOT NULL DEFAULT '',
    entity_ref       TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    steps            TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    UNIQUE (team, name)
);
CREATE INDEX projects_team ON projects (team, id);
CREATE INDEX projects_status ON projects (status);
