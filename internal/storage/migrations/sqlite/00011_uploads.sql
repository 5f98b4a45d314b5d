-- XEP-0363 HTTP File Upload: one row per slot handed out. The file itself
-- is kept on disk under upload.dir, named by the slot id (never by the
-- client's filename). uploaded_at is 0 until the one PUT succeeded; a slot
-- not used before put_before, and a file past expires_at, are deleted by
-- the upload service's sweeper.

-- +goose Up
CREATE TABLE upload_slots (
    slot         TEXT    NOT NULL PRIMARY KEY, -- random id, the URL path segment
    domain       TEXT    NOT NULL,             -- owner's domain
    username     TEXT    NOT NULL,             -- owner's local part
    filename     TEXT    NOT NULL,
    size         INTEGER NOT NULL,             -- bytes, exact
    content_type TEXT    NOT NULL,             -- "" when the client named none
    created_at   INTEGER NOT NULL,             -- Unix time, milliseconds
    put_before   INTEGER NOT NULL,             -- Unix time, milliseconds
    expires_at   INTEGER NOT NULL,             -- Unix time, milliseconds
    uploaded_at  INTEGER NOT NULL              -- Unix time, milliseconds; 0: not yet
) WITHOUT ROWID;

CREATE INDEX upload_slots_owner ON upload_slots (domain, username);
CREATE INDEX upload_slots_expiry ON upload_slots (expires_at);

-- +goose Down
DROP INDEX upload_slots_expiry;
DROP INDEX upload_slots_owner;
DROP TABLE upload_slots;
