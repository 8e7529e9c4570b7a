-- Corrections of a bulletin's metadata after it was added (`loa library edit`): one row per
-- field changed, with the value before and after, who changed it and when (UTC, RFC 3339).
CREATE TABLE bulletin_edits (
    seq         BIGSERIAL PRIMARY KEY,
    bulletin_id TEXT NOT NULL REFERENCES bulletins (id) ON DELETE CASCADE,
    field       TEXT NOT NULL CHECK (field IN ('title','producer','valid_from','valid_until','stations','notes')),
    old_value   TEXT NOT NULL,
    new_value   TEXT NOT NULL,
    edited_by   TEXT NOT NULL,
    edited_at   TEXT NOT NULL
);
CREATE INDEX bulletin_edits_bulletin ON bulletin_edits (bulletin_id, seq);
