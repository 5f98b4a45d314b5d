-- PubSub nodes, items, subscriptions, affiliations and the caps cache:
-- the MySQL/MariaDB form of sqlite/00007_pubsub.sql. Keys fit InnoDB's
-- 3072-byte limit: a service (bare JID or domain) of at most 1024 bytes,
-- node names and item ids of at most 1024.

-- +goose Up
CREATE TABLE pubsub_nodes (
    service    VARBINARY(1024) NOT NULL,
    node       VARBINARY(1024) NOT NULL,
    creator    VARBINARY(1024) NOT NULL,
    config     LONGBLOB        NOT NULL,
    created_at BIGINT          NOT NULL,
    owner_domain VARBINARY(512)  NULL,
    owner_user   VARBINARY(512)  NULL,
    PRIMARY KEY (service, node),
    FOREIGN KEY (owner_domain, owner_user) REFERENCES accounts (domain, username) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX pubsub_nodes_creator ON pubsub_nodes (service, creator);

CREATE TABLE pubsub_items (
    service      VARBINARY(1024) NOT NULL,
    node         VARBINARY(1024) NOT NULL,
    item_id      VARBINARY(1000) NOT NULL,
    seq          BIGINT          NOT NULL,
    publisher    TEXT            NOT NULL,
    payload      LONGBLOB        NOT NULL,
    published_at BIGINT          NOT NULL,
    PRIMARY KEY (service, node, item_id),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX pubsub_items_seq ON pubsub_items (service, node, seq);

CREATE TABLE pubsub_subscriptions (
    service VARBINARY(1024) NOT NULL,
    node    VARBINARY(1024) NOT NULL,
    jid     VARBINARY(900)  NOT NULL,
    subid   VARBINARY(64)   NOT NULL,
    state   VARCHAR(16)     NOT NULL CHECK (state IN ('subscribed', 'pending', 'unconfigured')),
    options LONGBLOB        NOT NULL,
    PRIMARY KEY (service, node, jid, subid),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE pubsub_affiliations (
    service     VARBINARY(1024) NOT NULL,
    node        VARBINARY(1024) NOT NULL,
    jid         VARBINARY(1000) NOT NULL,
    affiliation VARCHAR(16)     NOT NULL CHECK (affiliation IN ('owner', 'publisher', 'publish-only', 'member', 'outcast')),
    PRIMARY KEY (service, node, jid),
    FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE pubsub_caps (
    hash       VARBINARY(512) NOT NULL PRIMARY KEY,
    info       LONGBLOB       NOT NULL,
    created_at BIGINT         NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE pubsub_caps;
DROP TABLE pubsub_affiliations;
DROP TABLE pubsub_subscriptions;
DROP TABLE pubsub_items;
DROP TABLE pubsub_nodes;
