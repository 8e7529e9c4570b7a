-- Commune machines that play their station themselves (`loa agent`, issue 14) and the
-- one-time tokens that enrol them. A node is known by its Ed25519 public key (64 hex
-- digits); a token keeps only the SHA-256 of its text. Instants are fixed-width RFC 3339
-- UTC text, as everywhere else.
CREATE TABLE agent_nodes (
    public_key  TEXT PRIMARY KEY NOT NULL,
    station     TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX agent_nodes_station ON agent_nodes (station);

CREATE TABLE agent_enrol_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    station    TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX agent_enrol_tokens_station ON agent_enrol_tokens (station);
