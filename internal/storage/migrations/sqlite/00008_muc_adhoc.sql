-- Additions of issue 11. Owned by the muc package: room
-- registrations with their reserved nicknames (XEP-0045 §7.10, §7.12) and
-- each persistent room's secret that keys its occupant ids (XEP-0421), so
-- the ids stay the same across restarts. Owned by the adhoc package: the
-- message of the day of each served domain (XEP-0133).

-- +goose Up
CREATE TABLE muc_registrations (
    service TEXT NOT NULL,
    name    TEXT NOT NULL,
    jid     TEXT NOT NULL, -- the registered bare JID, prepared
    nick    TEXT NOT NULL, -- the reserved nickname
    PRIMARY KEY (service, name, jid),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE muc_room_secrets (
    service TEXT NOT NULL,
    name    TEXT NOT NULL,
    secret  BLOB NOT NULL, -- HMAC key of the room's occupant ids
    PRIMARY KEY (service, name),
    FOREIGN KEY (service, name) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE adhoc_motd (
    domain     TEXT    NOT NULL PRIMARY KEY, -- the served domain
    body       TEXT    NOT NULL,             -- the message of the day (XEP-0133 §4.26)
    updated_at INTEGER NOT NULL              -- Unix time, milliseconds
) WITHOUT ROWID;

-- +goose Down
DROP TABLE adhoc_motd;
DROP TABLE muc_room_secrets;
DROP TABLE muc_registrations;
