-- The message archive (XEP-0313): one row per archived message and
-- archive. An archive belongs to an owner JID (a user's bare JID, or a
-- room's JID), not to an account row, so that rooms can have archives
-- too; the feature that owns an archive removes it with its owner.
-- id is the server-assigned stanza-id (XEP-0359) as a number: Unix time
-- in microseconds, strictly increasing in the order of commit, so it is
-- both the archive's order and the message's timestamp.

-- +goose Up
CREATE TABLE archive (
    id            INTEGER PRIMARY KEY,  -- server-assigned, time-ordered (µs)
    owner         TEXT    NOT NULL,     -- the archive: a bare JID
    with_key      INTEGER NOT NULL,     -- a 64-bit hash of with_bare, for the index
    with_bare     TEXT    NOT NULL,     -- the other party, bare
    with_resource TEXT    NOT NULL DEFAULT '',
    data          BLOB    NOT NULL      -- the message, as stored XML
);

CREATE INDEX archive_owner ON archive (owner, id);
CREATE INDEX archive_owner_with ON archive (owner, with_key, id);

-- +goose Down
DROP INDEX archive_owner_with;
DROP INDEX archive_owner;
DROP TABLE archive;
