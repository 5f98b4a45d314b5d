-- Accounts and their SCRAM credentials (RFC 5802): the PostgreSQL form of
-- sqlite/00001_accounts.sql. Text keys use the "C" collation so that they
-- compare and sort by bytes, as on SQLite and MySQL.

-- +goose Up
CREATE TABLE accounts (
    username   TEXT COLLATE "C" NOT NULL, -- localpart, prepared (PRECIS UsernameCaseMapped)
    domain     TEXT COLLATE "C" NOT NULL, -- domainpart, prepared (lower case, U-labels)
    created_at BIGINT NOT NULL,           -- Unix time, seconds
    PRIMARY KEY (domain, username)
);

CREATE TABLE scram_credentials (
    domain     TEXT COLLATE "C" NOT NULL,
    username   TEXT COLLATE "C" NOT NULL,
    hash       TEXT    NOT NULL CHECK (hash IN ('SHA-1', 'SHA-256', 'SHA-512')),
    salt       BYTEA   NOT NULL,
    iterations INTEGER NOT NULL CHECK (iterations > 0),
    stored_key BYTEA   NOT NULL,
    server_key BYTEA   NOT NULL,
    PRIMARY KEY (domain, username, hash),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE scram_credentials;
DROP TABLE accounts;
