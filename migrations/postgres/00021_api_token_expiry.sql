-- +goose Up
-- API tokens of the configuration API (issue 18): an expiry (NULL: never)
-- and who created the token, shown on the users page.
ALTER TABLE hq_api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE hq_api_tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE hq_api_tokens DROP COLUMN created_by;
ALTER TABLE hq_api_tokens DROP COLUMN expires_at;
