-- XEP-0484 FAST tokens. The token itself is never stored: key_hash is
-- SHA-256 of it (sasl.HTKey), which verifies an HT-SHA-256 login but does
-- not give the token back. A token belongs to an account and to the
-- XEP-0388 user-agent id it was issued to, and goes with the account.

-- +goose Up
CREATE TABLE fast_tokens (
    key_hash   BLOB    NOT NULL PRIMARY KEY,
    domain     TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    agent      TEXT    NOT NULL, -- the user-agent id it was issued to
    mechanism  TEXT    NOT NULL, -- the HT mechanism it is bound to
    created_at INTEGER NOT NULL, -- Unix time, milliseconds
    expires_at INTEGER NOT NULL, -- Unix time, milliseconds
    last_count INTEGER NOT NULL, -- highest XEP-0484 count accepted; -1: none yet
    uses       INTEGER NOT NULL, -- logins with it
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX fast_tokens_owner ON fast_tokens (domain, username, agent);

-- +goose Down
DROP INDEX fast_tokens_owner;
DROP TABLE fast_tokens;
