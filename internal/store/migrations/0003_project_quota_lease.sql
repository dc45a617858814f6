-- mlportal schema v3: a project's quota, repository web and catalog-info
-- URLs in their own columns, and the lease that lets one replica at a time
-- run a project's saga. Projects recorded by v2 kept their quota on the
-- namespace step (steps JSON); the store reads it from there while the
-- quota column is empty.

ALTER TABLE projects ADD COLUMN quota TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN web_url TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN catalog_info_url TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
