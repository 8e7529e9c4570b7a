-- The plans that schedule builds used (`loa plan history`): each distinct plan text once,
-- numbered 1, 2, … in the order first used, with its SHA-256; a kept week names the version
-- it was built by, so reports judge each week by the plan in force when it was built.
CREATE TABLE plans (
    version   INTEGER PRIMARY KEY,
    sha256    TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    content   TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
-- NULL for weeks built before plans were kept.
ALTER TABLE schedules ADD COLUMN plan_version INTEGER REFERENCES plans (version);
CREATE INDEX schedules_plan_version ON schedules (plan_version);
