-- Built weeks (versioned), operator pins and exclusions, and week locks.
CREATE TABLE schedules (
    week      TEXT NOT NULL,
    station   TEXT NOT NULL,
    version   INTEGER NOT NULL,
    plan      TEXT NOT NULL,
    built_at  TEXT NOT NULL,
    built_by  TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (week, station, version)
);

CREATE TABLE schedule_pins (
    week        TEXT NOT NULL,
    station     TEXT NOT NULL,
    slot_start  TEXT NOT NULL,
    bulletin_id TEXT NOT NULL REFERENCES bulletins (id) ON DELETE RESTRICT,
    action      TEXT NOT NULL CHECK (action IN ('pin', 'exclude')),
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (station, slot_start, bulletin_id)
);
CREATE INDEX schedule_pins_week ON schedule_pins (week);

CREATE TABLE schedule_locks (
    week      TEXT NOT NULL,
    station   TEXT NOT NULL,
    locked_at TEXT NOT NULL,
    locked_by TEXT NOT NULL,
    PRIMARY KEY (week, station)
);
