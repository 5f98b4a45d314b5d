-- The built-in XEP-0357 app server's device registrations: the
-- PostgreSQL form of sqlite/00013_push_devices.sql.

-- +goose Up
CREATE TABLE push_devices (
    node        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    domain      TEXT COLLATE "C" NOT NULL,
    username    TEXT COLLATE "C" NOT NULL,
    provider    TEXT COLLATE "C" NOT NULL, -- apns or fcm
    token       TEXT COLLATE "C" NOT NULL, -- the device token
    topic       TEXT COLLATE "C" NOT NULL, -- APNs topic; '' for FCM
    sandbox     BIGINT NOT NULL,           -- 1: APNs development environment
    secret_hash BYTEA  NOT NULL,           -- SHA-256 of the publish-options secret
    created_at  BIGINT NOT NULL,           -- Unix time, milliseconds
    disabled_at BIGINT NOT NULL,           -- Unix time, milliseconds; 0: enabled
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE INDEX push_devices_owner ON push_devices (domain, username);

-- +goose Down
DROP INDEX push_devices_owner;
DROP TABLE push_devices;
