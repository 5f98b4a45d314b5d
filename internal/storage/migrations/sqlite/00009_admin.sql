-- The admin surface (package admin): REST API tokens, stored as SHA-256
-- hashes (the token itself is shown once, by `parley token create`), and
-- the audit log of administrative actions.

-- +goose Up
CREATE TABLE admin_tokens (
    id         TEXT    NOT NULL PRIMARY KEY, -- public part of the token, shown by `parley token list`
    name       TEXT    NOT NULL,             -- what the token is for
    hash       BLOB    NOT NULL,             -- SHA-256 of the secret part
    created_at INTEGER NOT NULL,             -- Unix time, milliseconds
    last_used  INTEGER NOT NULL DEFAULT 0    -- Unix time, milliseconds; 0: never
) WITHOUT ROWID;

CREATE TABLE admin_audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT, -- gives the order
    at     INTEGER NOT NULL,                  -- Unix time, milliseconds
    actor  TEXT    NOT NULL,                  -- console user's JID, or "token:<id>"
    action TEXT    NOT NULL,                  -- e.g. "user.create"
    target TEXT    NOT NULL,                  -- what it acted on
    detail TEXT    NOT NULL,                  -- free text, never a password
    remote TEXT    NOT NULL                   -- the client's address
);

-- +goose Down
DROP TABLE admin_audit;
DROP TABLE admin_tokens;
