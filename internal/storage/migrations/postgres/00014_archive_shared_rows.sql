-- The message archive, one row per message for both parties: the
-- PostgreSQL form of sqlite/00014_archive_shared_rows.sql (read that file
-- for the design).

-- +goose Up
CREATE TABLE archive_jids (
    id  BIGSERIAL PRIMARY KEY,
    jid TEXT COLLATE "C" NOT NULL UNIQUE        -- a bare JID
);

CREATE TABLE archive_messages (
    id     BIGINT   NOT NULL PRIMARY KEY,       -- server-assigned, time-ordered (µs)
    jid_lo BIGINT   NOT NULL,                   -- archive_jids.id, the smaller
    jid_hi BIGINT   NOT NULL,                   -- archive_jids.id, the larger
    res_lo TEXT COLLATE "C" NOT NULL DEFAULT '',
    res_hi TEXT COLLATE "C" NOT NULL DEFAULT '',
    vis    SMALLINT NOT NULL,                   -- 1: in jid_lo's archive, 2: in jid_hi's
    data   BYTEA    NOT NULL                    -- the message, as stored XML
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

DROP TABLE archive;

-- +goose Down
-- A downgrade restores 00005's table empty (see the SQLite form).
CREATE TABLE archive (
    id            BIGINT NOT NULL PRIMARY KEY,
    owner         TEXT COLLATE "C" NOT NULL,
    with_key      BIGINT NOT NULL,
    with_bare     TEXT COLLATE "C" NOT NULL,
    with_resource TEXT COLLATE "C" NOT NULL DEFAULT '',
    data          BYTEA  NOT NULL
);
CREATE INDEX archive_owner ON archive (owner, id);
CREATE INDEX archive_owner_with ON archive (owner, with_key, id);
DROP TABLE archive_messages;
DROP TABLE archive_jids;
