-- Publish-subscribe (XEP-0060) nodes on the PubSub service and on every
-- account (XEP-0163 PEP), their items, subscriptions and affiliations, and
-- the entity-capabilities cache (XEP-0115, XEP-0390). Owned by the pubsub
-- package. 'service' is the bare JID of the PEP account or the domain of
-- the PubSub service (pubsub.<domain>).

-- +goose Up
CREATE TABLE pubsub_nodes (
    service    TEXT    NOT NULL,
    node       TEXT    NOT NULL,
    creator    TEXT    NOT NULL, -- bare JID that created it
    config     BLOB    NOT NULL, -- JSON owned by the pubsub package
    created_at INTEGER NOT NULL, -- Unix time, milliseconds
    owner_domain TEXT NULL, -- the PEP account (NULL on the service): deleting it deletes its nodes
    owner_user   TEXT NULL,
    PRIMARY KEY (service, node),
    FOREIGN KEY (owner_domain, owner_user) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX pubsub_nodes_creator ON pubsub_nodes (service, creator);

CREATE TABLE pubsub_items (
    service      TEXT    NOT NULL,
    node         TEXT    NOT NULL,
    item_id      TEXT    NOT NULL,
    seq          INTEGER NOT NULL, -- publication order within the node
    publisher    TEXT    NOT NULL, -- full JID of the publisher
    payload      BLOB    NOT NULL, -- the item's children, stored XML
    published_at INTEGER NOT NULL, -- Unix time, milliseconds
    PRIMARY KEY (service, node, item_id),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX pubsub_items_seq ON pubsub_items (service, node, seq);

CREATE TABLE pubsub_subscriptions (
    service TEXT NOT NULL,
    node    TEXT NOT NULL,
    jid     TEXT NOT NULL, -- the subscriber, bare or full
    subid   TEXT NOT NULL,
    state   TEXT NOT NULL CHECK (state IN ('subscribed', 'pending', 'unconfigured')),
    options BLOB NOT NULL, -- JSON owned by the pubsub package
    PRIMARY KEY (service, node, jid, subid),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE pubsub_affiliations (
    service     TEXT NOT NULL,
    node        TEXT NOT NULL,
    jid         TEXT NOT NULL, -- a bare JID
    affiliation TEXT NOT NULL CHECK (affiliation IN ('owner', 'publisher', 'publish-only', 'member', 'outcast')),
    PRIMARY KEY (service, node, jid),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE pubsub_caps (
    hash       TEXT    NOT NULL PRIMARY KEY, -- "algo value", e.g. "sha-1 QgayPKawpkPSDYmwT/WM94uAlu0="
    info       BLOB    NOT NULL,             -- the verified disco#info <query/>, stored XML
    created_at INTEGER NOT NULL              -- Unix time, milliseconds
) WITHOUT ROWID;

-- +goose Down
DROP TABLE pubsub_caps;
DROP TABLE pubsub_affiliations;
DROP TABLE pubsub_subscriptions;
DROP INDEX pubsub_items_seq;
DROP TABLE pubsub_items;
DROP INDEX pubsub_nodes_creator;
DROP TABLE pubsub_nodes;
