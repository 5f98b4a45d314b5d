-- The message archive (XEP-0313): the PostgreSQL form of
-- sqlite/00005_archive.sql.

-- +goose Up
CREATE TABLE archive (
    id            BIGINT NOT NULL PRIMARY KEY, -- server-assigned, time-ordered (µs)
    owner         TEXT COLLATE "C" NOT NULL,   -- the archive: a bare JID
    with_key      BIGINT NOT NULL,             -- a 64-bit hash of with_bare, for the index
    with_bare     TEXT COLLATE "C" NOT NULL,   -- the other party, bare
    with_resource TEXT COLLATE "C" NOT NULL DEFAULT '',
    data          BYTEA  NOT NULL              -- the message, as stored XML
);

CREATE INDEX archive_owner ON archive (owner, id);
CREATE INDEX archive_owner_with ON archive (owner, with_key, id);

-- +goose Down
DROP INDEX archive_owner_with;
DROP INDEX archive_owner;
DROP TABLE archive;
