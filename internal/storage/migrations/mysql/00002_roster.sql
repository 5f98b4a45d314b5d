-- Rosters, subscriptions, roster versions, pending inbound requests, last
-- unavailable presence and shared roster groups: the MySQL/MariaDB form of
-- sqlite/00002_roster.sql. Within InnoDB's 3072-byte key limit: contact
-- JIDs, roster group and shared group names at most 1024 bytes.

-- +goose Up
CREATE TABLE roster_items (
    domain       VARBINARY(512)  NOT NULL, -- the owner's domainpart
    username     VARBINARY(512)  NOT NULL, -- the owner's localpart
    contact      VARBINARY(1024) NOT NULL, -- the contact's bare JID, prepared
    name         VARCHAR(1023)   NOT NULL DEFAULT '',
    subscription VARCHAR(4)      NOT NULL DEFAULT 'none' CHECK (subscription IN ('none', 'to', 'from', 'both')),
    ask          BOOLEAN         NOT NULL DEFAULT FALSE, -- pending out (ask='subscribe')
    approved     BOOLEAN         NOT NULL DEFAULT FALSE, -- pre-approved (RFC 6121 §3.4)
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE roster_groups (
    domain   VARBINARY(512)  NOT NULL,
    username VARBINARY(512)  NOT NULL,
    contact  VARBINARY(1024) NOT NULL,
    grp      VARBINARY(1024) NOT NULL,
    PRIMARY KEY (domain, username, contact, grp),
    FOREIGN KEY (domain, username, contact) REFERENCES roster_items (domain, username, contact) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE roster_versions (
    domain   VARBINARY(512) NOT NULL,
    username VARBINARY(512) NOT NULL,
    epoch    VARCHAR(64)    NOT NULL, -- random, chosen when the row is created
    version  BIGINT         NOT NULL, -- bumped on every change of the roster
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE roster_pending (
    domain     VARBINARY(512)  NOT NULL,
    username   VARBINARY(512)  NOT NULL,
    contact    VARBINARY(1024) NOT NULL, -- the requester's bare JID
    stanza     LONGBLOB        NOT NULL, -- storage.EncodeElements of the request
    created_at BIGINT          NOT NULL, -- Unix time, milliseconds
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE presence_last (
    domain   VARBINARY(512) NOT NULL,
    username VARBINARY(512) NOT NULL,
    stanza   LONGBLOB       NOT NULL, -- the last unavailable presence, stored XML
    stamp    BIGINT         NOT NULL, -- when it was received, Unix time, milliseconds
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE shared_groups (
    name       VARBINARY(1024) NOT NULL PRIMARY KEY,
    display    VARCHAR(1023)   NOT NULL, -- the group name members see in their rosters
    created_at BIGINT          NOT NULL  -- Unix time, seconds
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE shared_group_members (
    grp      VARBINARY(1024) NOT NULL,
    domain   VARBINARY(512)  NOT NULL,
    username VARBINARY(512)  NOT NULL,
    PRIMARY KEY (grp, domain, username),
    FOREIGN KEY (grp) REFERENCES shared_groups (name) ON DELETE CASCADE,
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX shared_group_members_by_account ON shared_group_members (domain, username);

-- +goose Down
DROP INDEX shared_group_members_by_account ON shared_group_members;
DROP TABLE shared_group_members;
DROP TABLE shared_groups;
DROP TABLE presence_last;
DROP TABLE roster_pending;
DROP TABLE roster_versions;
DROP TABLE roster_groups;
DROP TABLE roster_items;
