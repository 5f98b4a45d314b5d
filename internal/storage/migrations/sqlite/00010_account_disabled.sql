-- Issue 11, owned by the account package: an account an administrator
-- disabled (XEP-0133 §4.6) cannot log in until it is re-enabled (§4.7).

-- +goose Up
ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0; -- 1: disabled

-- +goose Down
ALTER TABLE accounts DROP COLUMN disabled;
