-- The admin console's logins (package admin), kept in the database so
-- that a restart does not log the administrators out. The cookie's value
-- is never stored: only its SHA-256 hash.

-- +goose Up
CREATE TABLE admin_sessions (
    id_hash    BLOB    NOT NULL PRIMARY KEY, -- SHA-256 of the cookie value
    username   TEXT    NOT NULL,             -- the console user's bare JID
    csrf       TEXT    NOT NULL,             -- this login's form token
    created_at INTEGER NOT NULL,             -- Unix time, milliseconds
    expires_at INTEGER NOT NULL              -- Unix time, milliseconds; renewed on use
) WITHOUT ROWID;
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
