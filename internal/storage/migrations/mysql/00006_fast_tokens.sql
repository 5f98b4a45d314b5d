-- XEP-0484 FAST tokens: the MySQL/MariaDB form of
-- sqlite/00006_fast_tokens.sql. Only SHA-256 of a token is stored, never
-- the token. A user-agent id is at most 256 bytes (c2s refuses longer).

-- +goose Up
CREATE TABLE fast_tokens (
    key_hash   VARBINARY(32)  NOT NULL PRIMARY KEY,
    domain     VARBINARY(512) NOT NULL,
    username   VARBINARY(512) NOT NULL,
    agent      VARBINARY(256) NOT NULL, -- the user-agent id it was issued to
    mechanism  VARBINARY(64)  NOT NULL, -- the HT mechanism it is bound to
    created_at BIGINT         NOT NULL, -- Unix time, milliseconds
    expires_at BIGINT         NOT NULL, -- Unix time, milliseconds
    last_count BIGINT         NOT NULL, -- highest XEP-0484 count accepted; -1: none yet
    uses       BIGINT         NOT NULL, -- logins with it
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX fast_tokens_owner ON fast_tokens (domain, username, agent);

-- +goose Down
DROP INDEX fast_tokens_owner;
DROP TABLE fast_tokens;
