-- Console accounts (`loa user`), their API tokens and web sessions, and the audit: the
-- hash-chained record of every operator action. Names are NFC; instants are fixed-width
-- RFC 3339 UTC text. Tokens and sessions keep only the SHA-256 of their secret.
CREATE TABLE users (
    name          TEXT PRIMARY KEY NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin','operator','commune','viewer')),
    -- Station codes, comma-separated: the commune role's stations, empty for the others.
    stations      TEXT NOT NULL DEFAULT '',
    -- The argon2id PHC string.
    password_hash TEXT NOT NULL,
    disabled_at   TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_name  TEXT NOT NULL REFERENCES users (name),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_name);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_name  TEXT NOT NULL REFERENCES users (name),
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    address    TEXT
);
CREATE INDEX sessions_user ON sessions (user_name);

-- Append-only: seq runs 1, 2, 3 … without gaps; each entry hashes its fields and the hash
-- of the entry before it (access::audit::entry_hash).
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT CHECK (role IN ('admin','operator','commune','viewer')),
    station     TEXT CHECK (station <> ''),
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    before_json TEXT CHECK (before_json <> ''),
    after_json  TEXT CHECK (after_json <> ''),
    address     TEXT CHECK (address <> ''),
    prev_hash   TEXT NOT NULL,
    entry_hash  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's last entry, so deleting the newest entries is detected too. One row, moved in
-- the transaction that appends.
CREATE TABLE audit_head (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq        BIGINT NOT NULL,
    entry_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, entry_hash) VALUES (1, 0, '');
