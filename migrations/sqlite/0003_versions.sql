-- Uploads: the validation report and history of every version, and photos
-- attached to features.

-- The report shown before publishing (JSON: counts, schema, errors, warnings).
ALTER TABLE layer_versions ADD COLUMN report TEXT;
-- The format the upload was read as (geojson, shapefile, ...).
ALTER TABLE layer_versions ADD COLUMN format TEXT;
-- Who uploaded it (a user name, or `cli`).
ALTER TABLE layer_versions ADD COLUMN created_by TEXT;
-- When it was last made the current version.
ALTER TABLE layer_versions ADD COLUMN published_at TEXT;

-- Increases when a layer's photos change, so that servers reload it.
ALTER TABLE layers ADD COLUMN photos_rev INTEGER NOT NULL DEFAULT 0;

-- Photos are attached to a feature id of a layer, not to one version, so a
-- replaced version keeps the photos of the features it still has.
CREATE TABLE photos (
    id            INTEGER PRIMARY KEY,
    layer_id      TEXT NOT NULL REFERENCES layers (id),
    fid           TEXT NOT NULL,
    content_type  TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    bytes         BLOB NOT NULL,
    size          INTEGER NOT NULL,
    width         INTEGER,
    height        INTEGER,
    caption       TEXT,
    created_by    TEXT,
    created_at    TEXT NOT NULL,
    deleted_at    TEXT
);

CREATE INDEX photos_by_feature ON photos (layer_id, fid) WHERE deleted_at IS NULL;
CREATE INDEX layer_versions_by_layer ON layer_versions (layer_id, version);
