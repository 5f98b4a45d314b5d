-- The MySQL/MariaDB form of sqlite/00010_account_disabled.sql.

-- +goose Up
ALTER TABLE accounts ADD COLUMN disabled SMALLINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE accounts DROP COLUMN disabled;
