-- Room registrations and occupant-id secrets: the PostgreSQL form of
-- sqlite/00008_muc_registrations.sql.

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

-- +goose Down
DROP TABLE muc_room_secrets;
DROP TABLE muc_registrations;
