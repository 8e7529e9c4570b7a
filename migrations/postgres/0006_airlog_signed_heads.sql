-- Chain heads signed with the district's Ed25519 key (kept outside the database), appended as
-- playout advances. Rows are never updated or deleted: the trigger refuses it, so a careless
-- hand edit fails loudly (someone who drops the trigger still cannot forge a signature).
CREATE TABLE airlog_signed_heads (
    id              BIGSERIAL PRIMARY KEY,
    station         TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    row_hash        TEXT NOT NULL,
    signed_at       TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    signature       TEXT NOT NULL
);

CREATE INDEX airlog_signed_heads_station ON airlog_signed_heads (station, id);

CREATE FUNCTION airlog_signed_heads_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'airlog_signed_heads is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER airlog_signed_heads_append_only BEFORE UPDATE OR DELETE ON airlog_signed_heads
FOR EACH ROW EXECUTE FUNCTION airlog_signed_heads_append_only();

-- Exports read an airlog gain with SQLite's `printf('%!.17g', gain_db)` (17 significant
-- digits read back to the exact stored number); the same SQL runs here with this function,
-- which writes the shortest text that reads back exactly.
CREATE FUNCTION printf(fmt TEXT, v DOUBLE PRECISION) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT SET extra_float_digits = 3 AS $$ SELECT v::text $$;
