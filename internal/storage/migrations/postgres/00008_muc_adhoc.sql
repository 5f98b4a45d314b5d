-- Room registrations, occupant-id secrets and the message of the day: the PostgreSQL form of
-- sqlite/00008_muc_adhoc.sql.

-- +goose Up
CREATE TABLE muc_registrations (
    service TEXT COLLATE "C" NOT NULL,
    name    TEXT COLLATE "C" NOT NULL,
    jid     TEXT COLLATE "C" NOT NULL,
    nick    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (service, name, jid),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
);

CREATE TABLE muc_room_secrets (
    service TEXT COLLATE "C" NOT NULL,
    name    TEXT COLLATE "C" NOT NULL,
    secret  BYTEA NOT NULL,
    PRIMARY KEY (service, name),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
);

CREATE TABLE adhoc_motd (
    domain     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    body       TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE adhoc_motd;
DROP TABLE muc_room_secrets;
DROP TABLE muc_registrations;
