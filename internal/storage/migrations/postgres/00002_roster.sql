-- Rosters, subscriptions, roster versions, pending inbound requests, last
-- unavailable presence and shared roster groups: the PostgreSQL form of
-- sqlite/00002_roster.sql (0/1 flags are BOOLEAN here).

-- +goose Up
CREATE TABLE roster_items (
    domain       TEXT COLLATE "C" NOT NULL, -- the owner's domainpart
    username     TEXT COLLATE "C" NOT NULL, -- the owner's localpart
    contact      TEXT COLLATE "C" NOT NULL, -- the contact's bare JID, prepared
    name         TEXT    NOT NULL DEFAULT '',
    subscription TEXT    NOT NULL DEFAULT 'none' CHECK (subscription IN ('none', 'to', 'from', 'both')),
    ask          BOOLEAN NOT NULL DEFAULT FALSE, -- pending out (ask='subscribe')
    approved     BOOLEAN NOT NULL DEFAULT FALSE, -- pre-approved (RFC 6121 §3.4)
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE TABLE roster_groups (
    domain   TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C" NOT NULL,
    contact  TEXT COLLATE "C" NOT NULL,
    grp      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (domain, username, contact, grp),
    FOREIGN KEY (domain, username, contact) REFERENCES roster_items (domain, username, contact) ON DELETE CASCADE
);

CREATE TABLE roster_versions (
    domain   TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C" NOT NULL,
    epoch    TEXT   NOT NULL, -- random, chosen when the row is created
    version  BIGINT NOT NULL, -- bumped on every change of the roster
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE TABLE roster_pending (
    domain     TEXT COLLATE "C" NOT NULL,
    username   TEXT COLLATE "C" NOT NULL,
    contact    TEXT COLLATE "C" NOT NULL, -- the requester's bare JID
    stanza     BYTEA  NOT NULL,           -- storage.EncodeElements of the request
    created_at BIGINT NOT NULL,           -- Unix time, milliseconds
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE TABLE presence_last (
    domain   TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C" NOT NULL,
    stanza   BYTEA  NOT NULL, -- the last unavailable presence, stored XML
    stamp    BIGINT NOT NULL, -- when it was received, Unix time, milliseconds
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE TABLE shared_groups (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    display    TEXT   NOT NULL, -- the group name members see in their rosters
    created_at BIGINT NOT NULL  -- Unix time, seconds
);

CREATE TABLE shared_group_members (
    grp      TEXT COLLATE "C" NOT NULL,
    domain   TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (grp, domain, username),
    FOREIGN KEY (grp) REFERENCES shared_groups (name) ON DELETE CASCADE,
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

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
