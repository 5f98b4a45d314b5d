-- The built-in XEP-0357 app server's device registrations: the
-- MySQL/MariaDB form of sqlite/00013_push_devices.sql. Tokens are at
-- most 4096 bytes, topics 255, nodes 64 (package pushapp checks).

-- +goose Up
CREATE TABLE push_devices (
    node        VARBINARY(64)   NOT NULL PRIMARY KEY,
    domain      VARBINARY(512)  NOT NULL,
    username    VARBINARY(512)  NOT NULL,
    provider    VARBINARY(16)   NOT NULL, -- apns or fcm
    token       VARBINARY(4096) NOT NULL, -- the device token
    topic       VARBINARY(255)  NOT NULL, -- APNs topic; '' for FCM
    sandbox     BIGINT          NOT NULL, -- 1: APNs development environment
    secret_hash VARBINARY(32)   NOT NULL, -- SHA-256 of the publish-options secret
    created_at  BIGINT          NOT NULL, -- Unix time, milliseconds
    disabled_at BIGINT          NOT NULL, -- Unix time, milliseconds; 0: enabled
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX push_devices_owner ON push_devices (domain, username);

-- +goose Down
DROP INDEX push_devices_owner;
DROP TABLE push_devices;
