-- +goose Up
-- A waiting ticket whose people ahead came down to the pre-notice threshold:
-- ticket.near was emitted for it (once per ticket).
ALTER TABLE tickets ADD COLUMN near INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tickets DROP COLUMN near;
