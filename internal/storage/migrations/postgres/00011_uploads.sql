-- XEP-0363 HTTP File Upload: the PostgreSQL form of sqlite/00011_uploads.sql.

-- +goose Up
CREATE TABLE upload_slots (
    slot         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    domain       TEXT COLLATE "C" NOT NULL,
    username     TEXT COLLATE "C" NOT NULL,
    filename     TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    put_before   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    uploaded_at  BIGINT NOT NULL
);

CREATE INDEX upload_slots_owner ON upload_slots (domain, username);
CREATE INDEX upload_slots_expiry ON upload_slots (expires_at);

-- +goose Down
DROP INDEX upload_slots_expiry;
DROP INDEX upload_slots_owner;
DROP TABLE upload_slots;
