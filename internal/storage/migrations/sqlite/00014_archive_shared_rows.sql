-- The message archive, one row per message for both parties (replaces
-- 00005's one row per message and archive).
--
-- archive_jids interns every bare JID an archive row names (accounts,
-- rooms, remote parties), so that the indexes hold small integers
-- instead of JID text. archive_messages holds each archived message
-- once, between two parties: jid_lo and jid_hi are their archive_jids
-- ids, the smaller first (the same for a message and its answer, so one
-- index serves a 'with' query of either party). res_lo and res_hi are the
-- resources each party had in the exchange ('' for none). vis says whose
-- archive the message is in: bit 1 jid_lo's, bit 2 jid_hi's; a one-to-one
-- chat message between two local accounts is in both (3), a room's
-- message or one exchanged with a remote party in one. A party's purge
-- or retention clears its bit; a row visible to nobody is deleted. A
-- message to oneself has jid_lo = jid_hi and only bit 1.
--
-- id is the server-assigned stanza-id (XEP-0359) as before: Unix time in
-- microseconds, strictly increasing in the order of commit; both parties'
-- copies of a message share it (a stanza-id is unique per archive).
--
-- The old rows are moved one for one (each stays in its one owner's
-- archive with its id), so that every stanza-id a client holds stays
-- valid; new messages between two accounts take one row.

-- +goose Up
CREATE TABLE archive_jids (
    id  INTEGER PRIMARY KEY,
    jid TEXT NOT NULL UNIQUE            -- a bare JID
);

CREATE TABLE archive_messages (
    id     INTEGER PRIMARY KEY,         -- server-assigned, time-ordered (µs)
    jid_lo INTEGER NOT NULL,            -- archive_jids.id, the smaller
    jid_hi INTEGER NOT NULL,            -- archive_jids.id, the larger
    res_lo TEXT    NOT NULL DEFAULT '', -- jid_lo's resource
    res_hi TEXT    NOT NULL DEFAULT '', -- jid_hi's resource
    vis    INTEGER NOT NULL,            -- 1: in jid_lo's archive, 2: in jid_hi's
    data   BLOB    NOT NULL             -- the message, as stored XML
);

INSERT INTO archive_jids (jid) SELECT owner FROM archive UNION SELECT with_bare FROM archive;

INSERT INTO archive_messages (id, jid_lo, jid_hi, res_lo, res_hi, vis, data)
SELECT a.id,
       CASE WHEN o.id <= w.id THEN o.id ELSE w.id END,
       CASE WHEN o.id <= w.id THEN w.id ELSE o.id END,
       CASE WHEN o.id <= w.id THEN '' ELSE a.with_resource END,
       CASE WHEN o.id <= w.id THEN a.with_resource ELSE '' END,
       CASE WHEN o.id <= w.id THEN 1 ELSE 2 END,
       a.data
FROM archive a
JOIN archive_jids o ON o.jid = a.owner
JOIN archive_jids w ON w.jid = a.with_bare;

CREATE INDEX archive_messages_lo ON archive_messages (jid_lo, id, vis);
CREATE INDEX archive_messages_hi ON archive_messages (jid_hi, id, vis);
CREATE INDEX archive_messages_pair ON archive_messages (jid_lo, jid_hi, id, vis);

DROP INDEX archive_owner_with;
DROP INDEX archive_owner;
DROP TABLE archive;

-- +goose Down
-- A downgrade restores 00005's table empty: its rows carried a hash the
-- server computed and one row per archive, which SQL alone cannot
-- rebuild. Export the archives (parley export) before downgrading.
CREATE TABLE archive (
    id            INTEGER PRIMARY KEY,
    owner         TEXT    NOT NULL,
    with_key      INTEGER NOT NULL,
    with_bare     TEXT    NOT NULL,
    with_resource TEXT    NOT NULL DEFAULT '',
    data          BLOB    NOT NULL
);
CREATE INDEX archive_owner ON archive (owner, id);
CREATE INDEX archive_owner_with ON archive (owner, with_key, id);
DROP TABLE archive_messages;
DROP TABLE archive_jids;
