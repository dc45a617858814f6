-- The scheduler's cycle reads which active jobs changed (id and version)
-- from the index alone, then only the changed rows.
CREATE INDEX jobs_active_versions ON jobs (state, id, version);
