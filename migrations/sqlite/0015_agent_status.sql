-- The last status report of each commune machine (`loa agent`, issue 14): one row per
-- station, replaced at every report (a minute apart). `report` is the node's JSON as the
-- server checked it; `clock_offset_ms` is the node's clock minus the server's, measured by
-- the node's four-timestamp exchange, kept apart so a query can find the nodes that drift.
-- Instants are fixed-width RFC 3339 UTC text, as everywhere else.
CREATE TABLE agent_status (
    station         TEXT PRIMARY KEY NOT NULL,
    node            TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    clock_offset_ms BIGINT,
    report          TEXT NOT NULL
);

-- Each row a commune machine sends carries its clock offset to the server as the node
-- measured it when the row was written (the last measurement before it): a row's times
-- are the node's clock, and this says how far that clock was from the server's.
ALTER TABLE agent_airlog ADD COLUMN clock_offset_ms BIGINT;
