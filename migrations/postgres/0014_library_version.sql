-- The library's version: a number that moves with every change to `bulletins` (a bulletin
-- added, approved, retired, edited or removed, by any process on this database). The daemon
-- keeps the library in memory for the console and playout and reads it again only when this
-- number has moved, instead of reading every bulletin at every request.
CREATE TABLE library_version (
    id      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO library_version (id, version) VALUES (1, 1);

CREATE FUNCTION library_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE library_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER bulletins_changed AFTER INSERT OR UPDATE OR DELETE ON bulletins
    FOR EACH STATEMENT EXECUTE FUNCTION library_changed();
