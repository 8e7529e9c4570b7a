-- The library's version: a number that moves with every change to `bulletins` (a bulletin
-- added, approved, retired, edited or removed, by any process on this database). The daemon
-- keeps the library in memory for the console and playout and reads it again only when this
-- number has moved, instead of reading every bulletin at every request.
CREATE TABLE library_version (
    id      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO library_version (id, version) VALUES (1, 1);

CREATE TRIGGER bulletins_added AFTER INSERT ON bulletins
BEGIN
    UPDATE library_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER bulletins_changed AFTER UPDATE ON bulletins
BEGIN
    UPDATE library_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER bulletins_removed AFTER DELETE ON bulletins
BEGIN
    UPDATE library_version SET version = version + 1 WHERE id = 1;
END;
