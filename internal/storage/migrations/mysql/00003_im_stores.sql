-- Per-user records and queues of the instant-messaging features: the
-- MySQL/MariaDB form of sqlite/00003_im_stores.sql. A record name (a
-- namespace, a blocked JID) is at most 1984 bytes here (InnoDB's key
-- limit); data up to 4 GiB.

-- +goose Up
CREATE TABLE user_records (
    domain     VARBINARY(512)  NOT NULL,
    username   VARBINARY(512)  NOT NULL,
    kind       VARBINARY(64)   NOT NULL, -- the feature: 'vcard', 'private', 'blocklist', 'last', ...
    name       VARBINARY(1984) NOT NULL, -- the record within kind ('' for a single record)
    data       LONGBLOB        NOT NULL,
    updated_at BIGINT          NOT NULL, -- Unix time, milliseconds
    PRIMARY KEY (domain, username, kind, name),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE user_queues (
    id         BIGINT          NOT NULL AUTO_INCREMENT PRIMARY KEY, -- gives the order
    domain     VARBINARY(512)  NOT NULL,
    username   VARBINARY(512)  NOT NULL,
    kind       VARBINARY(64)   NOT NULL, -- the feature: 'offline', ...
    created_at BIGINT          NOT NULL, -- Unix time, milliseconds
    data       LONGBLOB        NOT NULL,
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX user_queues_owner ON user_queues (domain, username, kind, id);

-- +goose Down
DROP INDEX user_queues_owner ON user_queues;
DROP TABLE user_queues;
DROP TABLE user_records;
