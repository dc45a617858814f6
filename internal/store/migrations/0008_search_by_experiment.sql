-- mlportal schema v8: run search reads one experiment's rows.
-- Params, tags and latest metrics carry their run's experiment (runs never
-- move between experiments), and their value indexes lead with it: a
-- search's filter then reads only the searched experiment's rows, through
-- an index that also covers the run id, and the planner starts from it
-- with or without statistics. Without them (SQLite never analyzes on its
-- own) it started from every run of the experiment and looked each one up:
-- 0.5 s instead of 0.03 s over 100,000 runs.

ALTER TABLE run_params ADD COLUMN experiment_id BIGINT NOT NULL DEFAULT 0;
UPDATE run_params SET experiment_id = (SELECT r.experiment_id FROM runs r WHERE r.id = run_params.run_id);
DROP INDEX run_params_key_value;
CREATE INDEX run_params_experiment_key_value ON run_params (experiment_id, key, substr(value, 1, 200), length(value), run_id);

ALTER TABLE run_tags ADD COLUMN experiment_id BIGINT NOT NULL DEFAULT 0;
UPDATE run_tags SET experiment_id = (SELECT r.experiment_id FROM runs r WHERE r.id = run_tags.run_id);
DROP INDEX run_tags_key_value;
CREATE INDEX run_tags_experiment_key_value ON run_tags (experiment_id, key, substr(value, 1, 200), length(value), run_id);

ALTER TABLE run_latest_metrics ADD COLUMN experiment_id BIGINT NOT NULL DEFAULT 0;
UPDATE run_latest_metrics SET experiment_id = (SELECT r.experiment_id FROM runs r WHERE r.id = run_latest_metrics.run_id);
DROP INDEX run_latest_metrics_key_value;
CREATE INDEX run_latest_metrics_experiment_key_value ON run_latest_metrics (experiment_id, key, is_nan, value, run_id);
