-- mlportal schema v6: cost accounting, budgets and quota requests.
-- jobs gain what the cost roll-ups group and sum in SQL: the cost of every
-- attempt (the controller prices each one), the pool of the current or last
-- attempt, the GPU type (also in the status JSON) and the month (YYYY-MM,
-- UTC) the job is charged to, set when it ends ('' while it has not).
-- Jobs recorded by v5 keep cost 0, gpu_type '' and month '' until they next
-- change.

ALTER TABLE jobs ADD COLUMN cost DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN pool TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN gpu_type TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN month TEXT NOT NULL DEFAULT '';
-- Covering indexes of the roll-ups (store/costs.go): one team's jobs by
-- when they were charged, and everyone's; a roll-up reads only these.
CREATE INDEX jobs_team_costs ON jobs (team, finished_at, project, gpu_type, month, state, gpu_seconds, cost);
CREATE INDEX jobs_costs ON jobs (finished_at, team, project, gpu_type, month, state, gpu_seconds, cost);

-- A team's monthly budget (internal/cost).
CREATE TABLE budgets (
    team              TEXT PRIMARY KEY REFERENCES teams(name) ON DELETE CASCADE,
    monthly_amount    DOUBLE PRECISION NOT NULL,
    warning_threshold DOUBLE PRECISION NOT NULL,
    hard_limit        INTEGER NOT NULL,
    updated_by        TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL
);

-- Quota requests (internal/quota): spec is what was asked (immutable),
-- decision the approval or denial and how applying it went. applied and
-- expires_at are columns for the background check's query.
CREATE TABLE quota_requests (
    id           TEXT PRIMARY KEY,
    team         TEXT NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    spec         TEXT NOT NULL,
    decision     TEXT NOT NULL,
    applied      INTEGER NOT NULL DEFAULT 0,
    expires_at   BIGINT NOT NULL DEFAULT 0,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL
);
CREATE INDEX quota_requests_team ON quota_requests (team, id);
CREATE INDEX quota_requests_open ON quota_requests (status, applied, expires_at);
