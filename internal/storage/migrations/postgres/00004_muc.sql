-- Persistent group chat rooms and their affiliations: the PostgreSQL form
-- of sqlite/00004_muc.sql.

-- +goose Up
CREATE TABLE muc_rooms (
    service    TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    config     BYTEA  NOT NULL,                -- JSON owned by the muc package
    subject    TEXT   NOT NULL DEFAULT '',
    subject_by TEXT   NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,                -- Unix time, milliseconds
    PRIMARY KEY (service, name)
);

CREATE TABLE muc_affiliations (
    service     TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    jid         TEXT COLLATE "C" NOT NULL,
    affiliation TEXT NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
    reason      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (service, name, jid),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE muc_affiliations;
DROP TABLE muc_rooms;
