-- Room registrations, occupant-id secrets and the message of the day: the MySQL/MariaDB form of
-- sqlite/00008_muc_adhoc.sql. Keys fit InnoDB's 3072-byte limit.

-- +goose Up
CREATE TABLE muc_registrations (
    service VARBINARY(512)  NOT NULL,
    name    VARBINARY(512)  NOT NULL,
    jid     VARBINARY(2000) NOT NULL,
    nick    VARBINARY(1024) NOT NULL,
    PRIMARY KEY (service, name, jid),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE muc_room_secrets (
    service VARBINARY(512) NOT NULL,
    name    VARBINARY(512) NOT NULL,
    secret  VARBINARY(64)  NOT NULL,
    PRIMARY KEY (service, name),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE adhoc_motd (
    domain     VARBINARY(1023) NOT NULL PRIMARY KEY,
    body       TEXT            NOT NULL,
    updated_at BIGINT          NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE adhoc_motd;
DROP TABLE muc_room_secrets;
DROP TABLE muc_registrations;
