-- The airlogs of stations played by commune machines (`loa agent`, issue 14), stored as
-- the node wrote and hashed them. A node numbers its rows itself and the row hash covers
-- that number, so its rows cannot join the district's `airlog` (whose numbers are the
-- district's): they live here, keyed by (station, seq), in the order they joined the node's
-- chain (`position`), with the node that sent them. Appended only: the triggers refuse an
-- update or a delete. Reports, exports and `airlog verify` read `airlog_all`: both.
CREATE TABLE agent_airlog (
    station       TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    position      BIGINT NOT NULL,
    level         TEXT NOT NULL,
    slot_start    TEXT NOT NULL,
    bulletin_id   TEXT,
    sha256        TEXT,
    planned_start TEXT NOT NULL,
    actual_start  TEXT,
    actual_end    TEXT,
    played_ms     BIGINT NOT NULL,
    status        TEXT NOT NULL,
    source        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    gain_db       DOUBLE PRECISION,
    who           TEXT NOT NULL,
    link_seq      BIGINT,
    prev_hash     TEXT NOT NULL,
    row_hash      TEXT NOT NULL,
    node          TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    PRIMARY KEY (station, seq)
);
CREATE UNIQUE INDEX agent_airlog_position ON agent_airlog (station, position);
CREATE INDEX agent_airlog_station_start ON agent_airlog (station, planned_start);
CREATE INDEX agent_airlog_bulletin ON agent_airlog (bulletin_id);

CREATE FUNCTION agent_airlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'agent_airlog is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER agent_airlog_append_only BEFORE UPDATE OR DELETE ON agent_airlog
FOR EACH ROW EXECUTE FUNCTION agent_airlog_append_only();

CREATE VIEW airlog_all AS
    SELECT seq, level, station, slot_start, bulletin_id, sha256, planned_start, actual_start, actual_end, played_ms, status, source, reason, gain_db, who, link_seq, prev_hash, row_hash FROM airlog
    UNION ALL
    SELECT seq, level, station, slot_start, bulletin_id, sha256, planned_start, actual_start, actual_end, played_ms, status, source, reason, gain_db, who, link_seq, prev_hash, row_hash FROM agent_airlog;
