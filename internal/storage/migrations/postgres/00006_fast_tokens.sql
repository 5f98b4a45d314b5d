-- XEP-0484 FAST tokens: the PostgreSQL form of sqlite/00006_fast_tokens.sql.
-- Only SHA-256 of a token is stored, never the token.

-- +goose Up
CREATE TABLE fast_tokens (
    key_hash   BYTEA  NOT NULL PRIMARY KEY,
    domain     TEXT COLLATE "C" NOT NULL,
    username   TEXT COLLATE "C" NOT NULL,
    agent      TEXT COLLATE "C" NOT NULL, -- the user-agent id it was issued to
    mechanism  TEXT COLLATE "C" NOT NULL, -- the HT mechanism it is bound to
    created_at BIGINT NOT NULL,           -- Unix time, milliseconds
    expires_at BIGINT NOT NULL,           -- Unix time, milliseconds
    last_count BIGINT NOT NULL,           -- highest XEP-0484 count accepted; -1: none yet
    uses       BIGINT NOT NULL,           -- logins with it
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE INDEX fast_tokens_owner ON fast_tokens (domain, username, agent);

-- +goose Down
DROP INDEX fast_tokens_owner;
DROP TABLE fast_tokens;
