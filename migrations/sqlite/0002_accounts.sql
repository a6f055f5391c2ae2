-- Accounts: users, login sessions, API tokens, login throttling and the
-- audit log. Session and API tokens are stored only as SHA-256 hashes (hex);
-- passwords only as argon2id PHC strings.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    -- Login names compare without case: `Ayu` and `ayu` are one user.
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'leader', 'opd_staff')),
    -- The agency (OPD) an opd_staff user works for; required for them.
    agency_id      TEXT REFERENCES agencies (id),
    password_hash  TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (role <> 'opd_staff' OR agency_id IS NOT NULL)
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value; the value itself is never stored.
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- Sliding: moved forward when the session is used.
    expires_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    -- SHA-256 of the whole token (`bsc_` + 64 hex digits).
    token_hash    TEXT NOT NULL UNIQUE,
    -- The first characters of the token, to tell tokens apart in listings.
    prefix        TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    revoked_at    TEXT,
    last_used_at  TEXT
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Failed logins, one row each, per throttling key (`user:NAME` lower-cased,
-- `client:ADDR`). Shared through the database, so replicas throttle together.
CREATE TABLE login_attempts (
    id    INTEGER PRIMARY KEY,
    key   TEXT NOT NULL,
    -- Unix time in seconds.
    at    INTEGER NOT NULL
);

CREATE INDEX login_attempts_by_key ON login_attempts (key, at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- NULL for the command line and for requests without an account.
    actor_id      INTEGER,
    -- The user name, `cli` for the command line, NULL when nobody logged in.
    actor_name    TEXT,
    action        TEXT NOT NULL,
    client        TEXT,
    layer_id      TEXT,
    from_version  INTEGER,
    to_version    INTEGER,
    -- JSON text.
    detail        TEXT
);

CREATE INDEX audit_log_by_action ON audit_log (action, id);
CREATE INDEX audit_log_by_layer ON audit_log (layer_id, id);
