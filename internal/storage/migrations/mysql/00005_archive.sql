-- The message archive (XEP-0313): the MySQL/MariaDB form of
-- sqlite/00005_archive.sql. An owner (a bare JID of an account or a room)
-- is at most 1100 bytes, within InnoDB's key limit; the other party's JID
-- is not limited beyond RFC 7622's bounds and is indexed by its hash.

-- +goose Up
CREATE TABLE archive (
    id            BIGINT          NOT NULL PRIMARY KEY, -- server-assigned, time-ordered (µs)
    owner         VARBINARY(1100) NOT NULL,             -- the archive: a bare JID
    with_key      BIGINT          NOT NULL,             -- a 64-bit hash of with_bare, for the index
    with_bare     VARBINARY(3072) NOT NULL,             -- the other party, bare
    with_resource VARBINARY(1024) NOT NULL DEFAULT '',
    data          LONGBLOB        NOT NULL              -- the message, as stored XML
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX archive_owner ON archive (owner, id);
CREATE INDEX archive_owner_with ON archive (owner, with_key, id);

-- +goose Down
DROP INDEX archive_owner_with ON archive;
DROP INDEX archive_owner ON archive;
DROP TABLE archive;
