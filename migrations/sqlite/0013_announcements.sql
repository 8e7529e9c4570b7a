-- Announcements waiting for a station's next slot instance (issue 13): kept so that a
-- restart of the daemon does not lose them. `state` is waiting, aired, cancelled or expired;
-- `airlog_seq` is the row of its airing.
CREATE TABLE announcements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    station     TEXT NOT NULL,
    bulletin_id TEXT NOT NULL,
    level       TEXT NOT NULL,
    who         TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    state       TEXT NOT NULL,
    ended_at    TEXT,
    ended_by    TEXT,
    airlog_seq  INTEGER
);
CREATE INDEX announcements_station_state ON announcements (station, state);
