-- The admin surface's tokens and audit log: the MySQL/MariaDB form of
-- sqlite/00009_admin.sql.

-- +goose Up
CREATE TABLE admin_tokens (
    id         VARBINARY(64) NOT NULL PRIMARY KEY,
    name       TEXT          NOT NULL,
    hash       VARBINARY(64) NOT NULL,
    created_at BIGINT        NOT NULL,
    last_used  BIGINT        NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE admin_audit (
    id     BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT   NOT NULL,
    action TEXT   NOT NULL,
    target TEXT   NOT NULL,
    detail TEXT   NOT NULL,
    remote TEXT   NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE admin_audit;
DROP TABLE admin_tokens;
