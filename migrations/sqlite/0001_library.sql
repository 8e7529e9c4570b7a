-- The bulletin library and the airlog table it must never lose track of.
CREATE TABLE bulletins (
    id                  TEXT PRIMARY KEY NOT NULL,
    sha256              TEXT NOT NULL UNIQUE,
    size_bytes          INTEGER NOT NULL,
    codec               TEXT NOT NULL,
    container           TEXT NOT NULL,
    sample_rate         INTEGER NOT NULL,
    channels            INTEGER NOT NULL,
    duration_ms         INTEGER NOT NULL,
    frames              INTEGER NOT NULL,
    loudness_lufs       REAL,
    loudness_range_lu   REAL,
    true_peak_dbtp      REAL,
    leading_silence_ms  INTEGER NOT NULL,
    trailing_silence_ms INTEGER NOT NULL,
    tag_title           TEXT,
    tag_artist          TEXT,
    title               TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('news','article','column','spot','jingle')),
    topic               TEXT NOT NULL CHECK (topic IN ('documents','e_procedures','procedure_control','examples','other')),
    priority            TEXT NOT NULL CHECK (priority IN ('normal','priority','emergency')),
    producer            TEXT NOT NULL,
    language            TEXT NOT NULL,
    valid_from          TEXT,
    valid_until         TEXT,
    stations            TEXT NOT NULL,
    notes               TEXT NOT NULL,
    audio_path          TEXT NOT NULL,
    original_name       TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('draft','approved','retired')),
    added_by            TEXT NOT NULL,
    added_at            TEXT NOT NULL,
    approved_by         TEXT,
    approved_at         TEXT,
    retired_by          TEXT,
    retired_at          TEXT
);
CREATE INDEX bulletins_state_kind_topic ON bulletins (state, kind, topic);

-- The as-run log: one row per item attempted. Rows point at the bulletin they aired, so a
-- bulletin with airlog rows cannot be removed (evidence keeps pointing at its audio).
CREATE TABLE airlog (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    station       TEXT NOT NULL,
    slot_start    TEXT NOT NULL,
    bulletin_id   TEXT REFERENCES bulletins (id) ON DELETE RESTRICT,
    sha256        TEXT,
    planned_start TEXT NOT NULL,
    actual_start  TEXT,
    actual_end    TEXT,
    played_ms     INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL,
    source        TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    gain_db       REAL,
    who           TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    row_hash      TEXT NOT NULL
);
CREATE INDEX airlog_bulletin ON airlog (bulletin_id);
CREATE INDEX airlog_station_start ON airlog (station, planned_start);
