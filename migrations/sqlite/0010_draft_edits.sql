-- How many times a draft was edited in place, feature by feature (the
-- page's editor): previews and ETags built from a version change with it.
-- Mirrored in migrations/postgres.
ALTER TABLE layer_versions ADD COLUMN edits INTEGER NOT NULL DEFAULT 0;
