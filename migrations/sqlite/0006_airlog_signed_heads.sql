-- Chain heads signed with the district's Ed25519 key (kept outside the database), appended as
-- playout advances. Rows are never updated or deleted: the triggers refuse it, so a careless
-- hand edit fails loudly (someone who drops the triggers still cannot forge a signature).
CREATE TABLE airlog_signed_heads (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    station         TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    row_hash        TEXT NOT NULL,
    signed_at       TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    signature       TEXT NOT NULL
);

CREATE INDEX airlog_signed_heads_station ON airlog_signed_heads (station, id);

CREATE TRIGGER airlog_signed_heads_no_update BEFORE UPDATE ON airlog_signed_heads
BEGIN
    SELECT RAISE(ABORT, 'airlog_signed_heads is append-only');
END;

CREATE TRIGGER airlog_signed_heads_no_delete BEFORE DELETE ON airlog_signed_heads
BEGIN
    SELECT RAISE(ABORT, 'airlog_signed_heads is append-only');
END;
