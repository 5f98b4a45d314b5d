-- The admin console's logins: the MySQL/MariaDB form of
-- sqlite/00012_admin_sessions.sql.

-- +goose Up
CREATE TABLE admin_sessions (
    id_hash    VARBINARY(32) NOT NULL PRIMARY KEY,
    username   TEXT          NOT NULL,
    csrf       TEXT          NOT NULL,
    created_at BIGINT        NOT NULL,
    expires_at BIGINT        NOT NULL,
    INDEX admin_sessions_expires (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE admin_sessions;
