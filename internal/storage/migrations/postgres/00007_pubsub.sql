-- PubSub nodes, items, subscriptions, affiliations and the caps cache:
-- the PostgreSQL form of sqlite/00007_pubsub.sql.

-- +goose Up
CREATE TABLE pubsub_nodes (
    service    TEXT COLLATE "C" NOT NULL,
    node       TEXT COLLATE "C" NOT NULL,
    creator    TEXT COLLATE "C" NOT NULL,
    config     BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    owner_domain TEXT COLLATE "C" NULL,
    owner_user   TEXT COLLATE "C" NULL,
    PRIMARY KEY (service, node),
    FOREIGN KEY (owner_domain, owner_user) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

CREATE INDEX pubsub_nodes_creator ON pubsub_nodes (service, creator);

CREATE TABLE pubsub_items (
    service      TEXT COLLATE "C" NOT NULL,
    node         TEXT COLLATE "C" NOT NULL,
    item_id      TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    publisher    TEXT   NOT NULL,
    payload      BYTEA  NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (service, node, item_id),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
);

CREATE INDEX pubsub_items_seq ON pubsub_items (service, node, seq);

CREATE TABLE pubsub_subscriptions (
    service TEXT COLLATE "C" NOT NULL,
    node    TEXT COLLATE "C" NOT NULL,
    jid     TEXT COLLATE "C" NOT NULL,
    subid   TEXT COLLATE "C" NOT NULL,
    state   TEXT  NOT NULL CHECK (state IN ('subscribed', 'pending', 'unconfigured')),
    options BYTEA NOT NULL,
    PRIMARY KEY (service, node, jid, subid),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
);

CREATE TABLE pubsub_affiliations (
    service     TEXT COLLATE "C" NOT NULL,
    node        TEXT COLLATE "C" NOT NULL,
    jid         TEXT COLLATE "C" NOT NULL,
    affiliation TEXT NOT NULL CHECK (affiliation IN ('owner', 'publisher', 'publish-only', 'member', 'outcast')),
    PRIMARY KEY (service, node, jid),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
);

CREATE TABLE pubsub_caps (
    hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    info       BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE pubsub_caps;
DROP TABLE pubsub_affiliations;
DROP TABLE pubsub_subscriptions;
DROP INDEX pubsub_items_seq;
DROP TABLE pubsub_items;
DROP INDEX pubsub_nodes_creator;
DROP TABLE pubsub_nodes;
