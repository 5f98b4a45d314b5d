-- Accounts and their SCRAM credentials (RFC 5802): the MySQL/MariaDB form
-- of sqlite/00001_accounts.sql.
--
-- Keys are VARBINARY: they compare and sort by bytes, as on SQLite and
-- PostgreSQL, and their lengths count bytes. InnoDB limits a key to 3072
-- bytes, so the parts of a JID are shorter than RFC 7622 allows: domain
-- and localpart 512 bytes each, a whole JID (contacts) 1024 bytes. A
-- longer value is refused (strict SQL mode), never truncated.

-- +goose Up
CREATE TABLE accounts (
    username   VARBINARY(512) NOT NULL, -- localpart, prepared (PRECIS UsernameCaseMapped)
    domain     VARBINARY(512) NOT NULL, -- domainpart, prepared (lower case, U-labels)
    created_at BIGINT NOT NULL,         -- Unix time, seconds
    PRIMARY KEY (domain, username)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE scram_credentials (
    domain     VARBINARY(512) NOT NULL,
    username   VARBINARY(512) NOT NULL,
    hash       VARCHAR(7)     NOT NULL CHECK (hash IN ('SHA-1', 'SHA-256', 'SHA-512')),
    salt       VARBINARY(255) NOT NULL,
    iterations INTEGER        NOT NULL CHECK (iterations > 0),
    stored_key VARBINARY(255) NOT NULL,
    server_key VARBINARY(255) NOT NULL,
    PRIMARY KEY (domain, username, hash),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE scram_credentials;
DROP TABLE accounts;
