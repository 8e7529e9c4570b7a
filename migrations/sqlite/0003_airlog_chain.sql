-- Links between airlog rows (a makeup and the miss it makes up, an urgent announcement and
-- the item it interrupted) and the head of each station's hash chain, so that deleting the
-- newest rows is detected too.
ALTER TABLE airlog ADD COLUMN link_seq INTEGER REFERENCES airlog (seq);

CREATE TABLE airlog_heads (
    station  TEXT PRIMARY KEY NOT NULL,
    seq      INTEGER NOT NULL,
    row_hash TEXT NOT NULL
);

CREATE INDEX airlog_open ON airlog (station, status);
