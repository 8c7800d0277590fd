-- +goose Up
-- Personal-data retention (cloud/retention): find what is left to anonymise
-- without scanning every event and ticket each hour. The indexes hold only
-- rows that still carry a RUT hash, so they shrink as retention runs.
CREATE INDEX events_rut_hash_at ON events (at) WHERE data ? 'rut_hash';
CREATE INDEX tickets_rut_hash_day ON tickets (day) WHERE rut_hash IS NOT NULL;

-- +goose Down
DROP INDEX tickets_rut_hash_day;
DROP INDEX events_rut_hash_at;
