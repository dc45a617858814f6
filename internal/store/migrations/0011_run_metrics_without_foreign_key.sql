-- mlportal schema v11: the metric history without a foreign key to runs.
-- PostgreSQL checks a foreign key with a query per inserted row: half of
-- the database's CPU in a log-batch of 1,000 values (COPY of 1,000 rows:
-- 14 ms with the key, 7 ms without). Runs are never removed (deleting a
-- run or an experiment only marks it), and log-batch reads the run in the
-- transaction that writes its values, so the key guarded nothing the
-- store does not already ensure. SQLite cannot drop a constraint, hence
-- the copy into a new table on both.

CREATE TABLE run_metrics_v11 (
    run_id         TEXT NOT NULL,
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
INSERT INTO run_metrics_v11 (run_id, key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest)
SELECT run_id, key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest FROM run_metrics;
DROP TABLE run_metrics;
ALTER TABLE run_metrics_v11 RENAME TO run_metrics;
