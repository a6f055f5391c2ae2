-- Core model of the BSC map server (SQLite). The PostgreSQL/PostGIS schema
-- mirrors it table for table: `geometry` becomes geometry(Geometry, 4326)
-- and `properties` jsonb there; here both are JSON text.

CREATE TABLE categories (
    id          TEXT PRIMARY KEY,
    title_id    TEXT NOT NULL,
    title_en    TEXT NOT NULL,
    icon        TEXT NOT NULL,
    color       TEXT NOT NULL,
    sort_order  INTEGER NOT NULL UNIQUE
);

INSERT INTO categories (id, title_id, title_en, icon, color, sort_order) VALUES
    ('general',                'Umum',                      'General',                      'info',       '#607d8b', 1),
    ('infrastructure',         'Infrastruktur',             'Infrastructure',               'road',       '#795548', 2),
    ('covid-19-response',      'Penanganan COVID-19',       'COVID-19 response',            'virus',      '#d32f2f', 3),
    ('tourism',                'Pariwisata',                'Tourism',                      'beach',      '#0288d1', 4),
    ('agriculture-plantation', 'Pertanian dan Perkebunan',  'Agriculture and plantations',  'rice',       '#689f38', 5),
    ('fisheries-livestock',    'Perikanan dan Peternakan',  'Fisheries and livestock',      'fish',       '#00897b', 6),
    ('traffic',                'Lalu Lintas',               'Traffic',                      'traffic',    '#f57c00', 7),
    ('economy',                'Ekonomi',                   'Economy',                      'market',     '#fbc02d', 8),
    ('education',              'Pendidikan',                'Education',                    'school',     '#3949ab', 9),
    ('social',                 'Sosial',                    'Social',                       'people',     '#8e24aa', 10),
    ('health',                 'Kesehatan',                 'Health',                       'hospital',   '#e53935', 11),
    ('arts-culture',           'Seni dan Budaya',           'Arts and culture',             'mask',       '#c2185b', 12),
    ('places-of-worship',      'Tempat Ibadah',             'Places of worship',            'temple',     '#6d4c41', 13),
    ('setra-cemeteries',       'Setra dan Kuburan',         'Setra and cemeteries',         'cemetery',   '#455a64', 14);

CREATE TABLE agencies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE layers (
    id               TEXT PRIMARY KEY,
    category_id      TEXT NOT NULL REFERENCES categories (id),
    title_id         TEXT NOT NULL,
    title_en         TEXT NOT NULL,
    agency_id        TEXT REFERENCES agencies (id),
    visibility       TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
    -- Number of the published version served to readers; NULL until the first publish.
    current_version  INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);

CREATE TABLE layer_versions (
    id              INTEGER PRIMARY KEY,
    layer_id        TEXT NOT NULL REFERENCES layers (id),
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'published', 'rejected')),
    feature_count   INTEGER NOT NULL,
    geometry_types  TEXT NOT NULL,
    minx            REAL,
    miny            REAL,
    maxx            REAL,
    maxy            REAL,
    source_name     TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (layer_id, version)
);

CREATE TABLE features (
    version_id  INTEGER NOT NULL REFERENCES layer_versions (id),
    -- Position of the feature in the uploaded file: the stable reading order.
    seq         INTEGER NOT NULL,
    -- The feature id as a string (what URLs name) and as it was written (number or string).
    fid         TEXT NOT NULL,
    fid_json    TEXT NOT NULL,
    -- RFC 7946 geometry object as compact JSON text, NULL for features without geometry.
    geometry    TEXT,
    properties  TEXT NOT NULL,
    -- Display name taken from the properties at import (nama, name, ...), for search.
    name        TEXT,
    minx        REAL,
    miny        REAL,
    maxx        REAL,
    maxy        REAL,
    PRIMARY KEY (version_id, seq),
    UNIQUE (version_id, fid)
);
