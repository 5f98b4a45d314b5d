-- XEP-0363 HTTP File Upload: the MySQL/MariaDB form of
-- sqlite/00011_uploads.sql. A filename is at most 255 bytes and a content
-- type at most 255 (the service refuses longer).

-- +goose Up
CREATE TABLE upload_slots (
    slot         VARBINARY(64)  NOT NULL PRIMARY KEY,
    domain       VARBINARY(512) NOT NULL,
    username     VARBINARY(512) NOT NULL,
    filename     VARBINARY(1024) NOT NULL,
    size         BIGINT         NOT NULL,
    content_type VARBINARY(255) NOT NULL,
    created_at   BIGINT         NOT NULL,
    put_before   BIGINT         NOT NULL,
    expires_at   BIGINT         NOT NULL,
    uploaded_at  BIGINT         NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX upload_slots_owner ON upload_slots (domain, username);
CREATE INDEX upload_slots_expiry ON upload_slots (expires_at);

-- +goose Down
DROP INDEX upload_slots_expiry;
DROP INDEX upload_slots_owner;
DROP TABLE upload_slots;
