-- The admin console's logins: the PostgreSQL form of
-- sqlite/00012_admin_sessions.sql.

-- +goose Up
CREATE TABLE admin_sessions (
    id_hash    BYTEA  NOT NULL PRIMARY KEY,
    username   TEXT   NOT NULL,
    csrf       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
