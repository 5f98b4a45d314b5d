-- Accounts and their SCRAM credentials (RFC 5802). No password is ever
-- stored: only salt, iteration count, StoredKey and ServerKey per hash.

-- +goose Up
CREATE TABLE accounts (
    username   TEXT    NOT NULL, -- localpart, prepared (PRECIS UsernameCaseMapped)
    domain     TEXT    NOT NULL, -- domainpart, prepared (lower case, U-labels)
    created_at INTEGER NOT NULL, -- Unix time, seconds
    PRIMARY KEY (domain, username)
) WITHOUT ROWID;

CREATE TABLE scram_credentials (
    domain     TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    hash       TEXT    NOT NULL CHECK (hash IN ('SHA-1', 'SHA-256', 'SHA-512')),
    salt       BLOB    NOT NULL,
    iterations INTEGER NOT NULL CHECK (iterations > 0),
    stored_key BLOB    NOT NULL,
    server_key BLOB    NOT NULL,
    PRIMARY KEY (domain, username, hash),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

-- +goose Down
DROP TABLE scram_credentials;
DROP TABLE accounts;
