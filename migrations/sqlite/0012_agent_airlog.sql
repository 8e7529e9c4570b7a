-- The airlogs of stations played by commune machines (`loa agent`, issue 14), stored as
-- the node wrote and hashed them. A node numbers its rows itself and the row hash covers
-- that number, so its rows cannot join the district's `airlog` (whose numbers are the
-- district's): they live here, keyed by (station, seq), in the order they joined the node's
-- chain (`position`), with the node that sent them. Appended only: the triggers refuse an
-- update or a delete. Reports, exports and `airlog verify` read `airlog_all`: both.
CREATE TABLE agent_airlog (
    station       TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    position      INTEGER NOT NULL,
    level         TEXT NOT NULL,
    slot_start    TEXT NOT NULL,
    bulletin_id   TEXT,
    sha256        TEXT,
    planned_start TEXT NOT NULL,
    actual_start  TEXT,
    actual_end    TEXT,
    played_ms     INTEGER NOT NULL,
    status        TEXT NOT NULL,
    source        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    gain_db       REAL,
    who           TEXT NOT NULL,
    link_seq      INTEGER,
    prev_hash     TEXT NOT NULL,
    row_hash      TEXT NOT NULL,
    node          TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    PRIMARY KEY (station, seq)
);
CREATE UNIQUE INDEX agent_airlog_position ON agent_airlog (station, position);
CREATE INDEX agent_airlog_station_start ON agent_airlog (station, planned_start);
CREATE INDEX agent_airlog_bulletin ON agent_airlog (bulletin_id);

CREATE TRIGGER agent_airlog_no_update BEFORE UPDATE ON agent_airlog
BEGIN
    SELECT RAISE(ABORT, 'agent_airlog is append-only');
END;

CREATE TRIGGER agent_airlog_no_delete BEFORE DELETE ON agent_airlog
BEGIN
    SELECT RAISE(ABORT, 'agent_airlog is append-only');
END;

CREATE VIEW airlog_all AS
    SELECT seq, level, station, slot_start, bulletin_id, sha256, planned_start, actual_start, actual_end, played_ms, status, source, reason, gain_db, who, link_seq, prev_hash, row_hash FROM airlog
    UNION ALL
    SELECT seq, level, station, slot_start, bulletin_id, sha256, planned_start, actual_start, actual_end, played_ms, status, source, reason, gain_db, who, link_seq, prev_hash, row_hash FROM agent_airlog;
