-- Per-user data of the instant-messaging features (RFC 6121 and XEPs):
-- user_records holds small keyed records (vCard, private XML, block list,
-- last activity), user_queues ordered per-user queues (offline messages).
-- Both belong to an account and go with it.

-- +goose Up
CREATE TABLE user_records (
    domain     TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    kind       TEXT    NOT NULL, -- the feature: 'vcard', 'private', 'blocklist', 'last', ...
    name       TEXT    NOT NULL, -- the record within kind ('' for a single record)
    data       BLOB    NOT NULL,
    updated_at INTEGER NOT NULL, -- Unix time, milliseconds
    PRIMARY KEY (domain, username, kind, name),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE user_queues (
    id         INTEGER PRIMARY KEY AUTOINCREMENT, -- gives the order
    domain     TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    kind       TEXT    NOT NULL, -- the feature: 'offline', ...
    created_at INTEGER NOT NULL, -- Unix time, milliseconds
    data       BLOB    NOT NULL,
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE INDEX user_queues_owner ON user_queues (domain, username, kind, id);

-- +goose Down
DROP INDEX user_queues_owner;
DROP TABLE user_queues;
DROP TABLE user_records;
