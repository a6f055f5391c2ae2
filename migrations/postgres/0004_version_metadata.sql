-- The layer metadata an upload names belongs to its version: it is kept
-- here and copied to the layer only when the version becomes current
-- (publish or rollback), so a draft or a rejected upload never changes
-- what is served. NULL: the upload left that field as it was. When a
-- version becomes current, the metadata then served is written back here,
-- so a rollback to it restores that metadata too.
ALTER TABLE layer_versions ADD COLUMN meta_category_id TEXT;
ALTER TABLE layer_versions ADD COLUMN meta_title_id TEXT;
ALTER TABLE layer_versions ADD COLUMN meta_title_en TEXT;
ALTER TABLE layer_versions ADD COLUMN meta_agency_id TEXT;
ALTER TABLE layer_versions ADD COLUMN meta_visibility TEXT;
