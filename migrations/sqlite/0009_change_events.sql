-- The change feed (`GET /api/changes`): one row per change a follower may
-- want to know about, written in the transaction of the change itself, so
-- an event exists exactly when its change committed. Ids only grow
-- (AUTOINCREMENT never reuses one, even after pruning), and a follower
-- resumes after the last id it saw. Mirrored in migrations/postgres.
CREATE TABLE change_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    -- publish, rollback, withdraw, delete, restore, name_field, photos,
    -- draft, report_new, report_status, report_route
    kind        TEXT NOT NULL,
    -- Who may read it: public or internal (as the layer's visibility),
    -- drafts (the owning agency and admins) or reports (the agency
    -- handling the report, leaders and admins).
    audience    TEXT NOT NULL,
    agency_id   TEXT,
    -- The agency a report was routed away from (report_route), which
    -- hears of it too.
    from_agency_id TEXT,
    layer_id    TEXT,
    version     INTEGER,
    report_id   INTEGER,
    status      TEXT
);

CREATE INDEX change_events_at ON change_events (at);

-- The newest id pruning removed: a follower asking to resume from an
-- older one has missed events and is told to reload.
CREATE TABLE change_events_pruned (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    through  INTEGER NOT NULL
);
