-- Persistent group chat rooms and their affiliations: the MySQL/MariaDB
-- form of sqlite/00004_muc.sql. Keys fit InnoDB's 3072-byte limit.

-- +goose Up
CREATE TABLE muc_rooms (
    service    VARBINARY(512)  NOT NULL,
    name       VARBINARY(512)  NOT NULL,
    config     LONGBLOB        NOT NULL, -- JSON owned by the muc package
    subject    TEXT            NOT NULL,
    subject_by VARBINARY(1024) NOT NULL,
    updated_at BIGINT          NOT NULL, -- Unix time, milliseconds
    PRIMARY KEY (service, name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE muc_affiliations (
    service     VARBINARY(512)  NOT NULL,
    name        VARBINARY(512)  NOT NULL,
    jid         VARBINARY(2000) NOT NULL,
    affiliation VARCHAR(16)     NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
    reason      TEXT            NOT NULL,
    PRIMARY KEY (service, name, jid),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE muc_affiliations;
DROP TABLE muc_rooms;
