-- Persistent group chat rooms (XEP-0045 §10.2, muc#roomconfig_persistentroom)
-- and their affiliations (§5.2). Owned by the muc package. Temporary rooms,
-- occupants and history live in memory only.

-- +goose Up
CREATE TABLE muc_rooms (
    service    TEXT    NOT NULL, -- the service domain, e.g. conference.example.org
    name       TEXT    NOT NULL, -- the room's localpart, prepared
    config     BLOB    NOT NULL, -- the configuration, JSON owned by the muc package
    subject    TEXT    NOT NULL DEFAULT '',
    subject_by TEXT    NOT NULL DEFAULT '', -- the nickname that set it
    updated_at INTEGER NOT NULL, -- Unix time, milliseconds
    PRIMARY KEY (service, name)
) WITHOUT ROWID;

CREATE TABLE muc_affiliations (
    service     TEXT NOT NULL,
    name        TEXT NOT NULL,
    jid         TEXT NOT NULL, -- a bare JID (or a domain), prepared
    affiliation TEXT NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
    reason      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (service, name, jid),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
) WITHOUT ROWID;

-- +goose Down
DROP TABLE muc_affiliations;
DROP TABLE muc_rooms;
