-- mlportal schema v12: a param or tag equality answered by an index alone.
-- The value indexes of migration 0008 hold substr(value, 1, 200) and
-- length(value), and PostgreSQL reads a row for every match of such an
-- index: it answers a query from an index alone only when the index holds
-- each column the query names, here value itself (10,000 rows read for a
-- param that a tenth of 100,000 runs share: half of a search's CPU).
-- These partial indexes hold the value of the rows whose value has at
-- most 200 characters (every param or tag a person types; a b-tree entry
-- stays far under PostgreSQL's limit), and the search names
-- `length(value) <= 200` next to the equality so that both databases see
-- that the index applies. Longer values keep using the prefix indexes.

CREATE INDEX run_params_experiment_key_short_value ON run_params (experiment_id, key, value, run_id) WHERE length(value) <= 200;
CREATE INDEX run_tags_experiment_key_short_value ON run_tags (experiment_id, key, value, run_id) WHERE length(value) <= 200;
