-- The built-in XEP-0357 app server's device registrations (package
-- pushapp): a pubsub node of the app server per device, owned by the
-- account that registered it, with the provider (apns or fcm) and the
-- device token the provider gave the app. The node's publish-options
-- secret is kept as SHA-256 only. disabled_at is set (Unix ms) when the
-- provider reported the token dead; such a node refuses notifications.

-- +goose Up
CREATE TABLE push_devices (
    node        TEXT    NOT NULL PRIMARY KEY,
    domain      TEXT    NOT NULL,
    username    TEXT    NOT NULL,
    provider    TEXT    NOT NULL, -- apns or fcm
    token       TEXT    NOT NULL, -- the device token (APNs) or registration token (FCM)
    topic       TEXT    NOT NULL, -- APNs topic (bundle id); '' for FCM
    sandbox     INTEGER NOT NULL, -- 1: APNs development environment
    secret_hash BLOB    NOT NULL, -- SHA-256 of the publish-options secret
    created_at  INTEGER NOT NULL, -- Unix time, milliseconds
    disabled_at INTEGER NOT NULL, -- Unix time, milliseconds; 0: enabled
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX push_devices_owner ON push_devices (domain, username);

-- +goose Down
DROP INDEX push_devices_owner;
DROP TABLE push_devices;
