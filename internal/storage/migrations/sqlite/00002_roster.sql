-- Rosters and presence subscriptions (RFC 6121 §2, §3), roster versions
-- (XEP-0237), pending inbound subscription requests, the last unavailable
-- presence of each account (RFC 6121 §4.3.2) and shared roster groups.
-- Owned by the roster, presence and sharedgroup packages. Everything
-- belonging to an account goes with it.

-- +goose Up
CREATE TABLE roster_items (
    domain       TEXT    NOT NULL, -- the owner's domainpart
    username     TEXT    NOT NULL, -- the owner's localpart
    contact      TEXT    NOT NULL, -- the contact's bare JID, prepared
    name         TEXT    NOT NULL DEFAULT '',
    subscription TEXT    NOT NULL DEFAULT 'none' CHECK (subscription IN ('none', 'to', 'from', 'both')),
    ask          INTEGER NOT NULL DEFAULT 0 CHECK (ask IN (0, 1)),      -- pending out (ask='subscribe')
    approved     INTEGER NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)), -- pre-approved (RFC 6121 §3.4)
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE roster_groups (
    domain   TEXT NOT NULL,
    username TEXT NOT NULL,
    contact  TEXT NOT NULL,
    grp      TEXT NOT NULL,
    PRIMARY KEY (domain, username, contact, grp),
    FOREIGN KEY (domain, username, contact) REFERENCES roster_items (domain, username, contact) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE roster_versions (
    domain   TEXT    NOT NULL,
    username TEXT    NOT NULL,
    epoch    TEXT    NOT NULL, -- random, chosen when the row is created
    version  INTEGER NOT NULL, -- bumped on every change of the roster
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

-- Inbound subscription requests the user has neither approved nor denied
-- ("Pending In"), with the complete stanza to deliver again at login.
CREATE TABLE roster_pending (
    domain     TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    contact    TEXT    NOT NULL, -- the requester's bare JID
    stanza     BLOB    NOT NULL, -- storage.EncodeElements of the request
    created_at INTEGER NOT NULL, -- Unix time, milliseconds
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE presence_last (
    domain   TEXT    NOT NULL,
    username TEXT    NOT NULL,
    stanza   BLOB    NOT NULL, -- the last unavailable presence, stored XML
    stamp    INTEGER NOT NULL, -- when it was received, Unix time, milliseconds
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE shared_groups (
    name       TEXT    NOT NULL PRIMARY KEY,
    display    TEXT    NOT NULL, -- the group name members see in their rosters
    created_at INTEGER NOT NULL  -- Unix time, seconds
) WITHOUT ROWID;

CREATE TABLE shared_group_members (
    grp      TEXT NOT NULL,
    domain   TEXT NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (grp, domain, username),
    FOREIGN KEY (grp) REFERENCES shared_groups (name) ON DELETE CASCADE,
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX shared_group_members_by_account ON shared_group_members (domain, username);

-- +goose Down
DROP INDEX shared_group_members_by_account;
DROP TABLE shared_group_members;
DROP TABLE shared_groups;
DROP TABLE presence_last;
DROP TABLE roster_pending;
DROP TABLE roster_versions;
DROP TABLE roster_groups;
DROP TABLE roster_items;
