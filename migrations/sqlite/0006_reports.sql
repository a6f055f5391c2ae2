-- Laporan warga (citizen reports): report types routed to agencies, the
-- reports themselves, their public history, and the key of the rate
-- limit's client hashes. Mirrored table for table in migrations/postgres.

-- The agencies that handle reports, when they do not exist yet (ids are
-- the slugs of their names, as `bsc user add --agency` makes them).
INSERT INTO agencies (id, name, created_at) VALUES
    ('dinas-pupr',                            'Dinas PUPR',                            '2026-12-01T00:00:00.000Z'),
    ('dinas-perhubungan',                     'Dinas Perhubungan',                     '2026-12-01T00:00:00.000Z'),
    ('dinas-lingkungan-hidup-dan-kebersihan', 'Dinas Lingkungan Hidup dan Kebersihan', '2026-12-01T00:00:00.000Z'),
    ('bpbd',                                  'BPBD',                                  '2026-12-01T00:00:00.000Z'),
    ('diskominfo',                            'Diskominfo',                            '2026-12-01T00:00:00.000Z')
ON CONFLICT DO NOTHING;

-- What a citizen can report, the BSC category it belongs to and the agency
-- (OPD) it is routed to; administrators change `agency_id`.
CREATE TABLE report_types (
    id           TEXT PRIMARY KEY,
    title_id     TEXT NOT NULL,
    title_en     TEXT NOT NULL,
    category_id  TEXT NOT NULL REFERENCES categories (id),
    agency_id    TEXT NOT NULL REFERENCES agencies (id),
    sort_order   INTEGER NOT NULL UNIQUE
);

INSERT INTO report_types (id, title_id, title_en, category_id, agency_id, sort_order) VALUES
    ('jalan-rusak',        'Jalan rusak',                     'Damaged road',               'infrastructure', 'dinas-pupr',                            1),
    ('lampu-jalan-mati',   'Lampu jalan mati',                'Street light out',           'traffic',        'dinas-perhubungan',                     2),
    ('saluran-tersumbat',  'Irigasi atau saluran tersumbat',  'Blocked irrigation or drain', 'infrastructure', 'dinas-pupr',                           3),
    ('sampah',             'Sampah',                          'Waste',                      'general',        'dinas-lingkungan-hidup-dan-kebersihan', 4),
    ('banjir',             'Banjir',                          'Flooding',                   'general',        'bpbd',                                  5),
    ('pohon-tumbang',      'Pohon tumbang',                   'Fallen tree',                'general',        'bpbd',                                  6),
    ('fasilitas-rusak',    'Fasilitas umum rusak',            'Damaged public facility',    'infrastructure', 'dinas-pupr',                            7),
    ('lainnya',            'Lainnya',                         'Other',                      'general',        'diskominfo',                            8);

CREATE TABLE reports (
    id                 INTEGER PRIMARY KEY,
    -- The tracking code: 10 Crockford base32 characters, without the dash.
    code               TEXT NOT NULL UNIQUE,
    type_id            TEXT NOT NULL REFERENCES report_types (id),
    -- The handling agency: the type's at submission, then as re-routed.
    agency_id          TEXT NOT NULL REFERENCES agencies (id),
    lon                REAL NOT NULL,
    lat                REAL NOT NULL,
    description        TEXT NOT NULL,
    -- The reporter's name and contact: for the agency and admins only.
    reporter_name      TEXT,
    reporter_contact   TEXT,
    -- The photo with its metadata stripped, and its sniffed type.
    photo              BLOB,
    photo_type         TEXT,
    status             TEXT NOT NULL CHECK (status IN ('baru', 'diverifikasi', 'ditangani', 'selesai', 'ditolak')),
    -- Keyed SHA-256 of the client's address (never the address), for the rate limit.
    client_hash        TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    first_response_at  TEXT,
    finished_at        TEXT,
    rating             INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment     TEXT,
    rated_at           TEXT
);

CREATE INDEX reports_client ON reports (client_hash, created_at);
CREATE INDEX reports_agency_status ON reports (agency_id, status);

-- The public history of a report: each status change with the agency's note.
CREATE TABLE report_events (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    status      TEXT NOT NULL,
    note        TEXT,
    agency_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE INDEX report_events_report ON report_events (report_id, id);

-- The key of the client hashes, made once by the first server that needs it.
CREATE TABLE report_keys (
    id   INTEGER PRIMARY KEY,
    key  TEXT NOT NULL
);
