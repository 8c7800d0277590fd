-- +goose Up
-- The branch agent is the only authority for a ticket's printed number and its
-- place in the queue; the cloud keeps what the agent said, never re-derives it.
-- printed: the number as printed ("C-004", "C-1000"), from the events' printed
-- field ('' for tickets projected before it: HQ falls back to origin_service and
-- number, never to the current service).
-- place_*: the last position and estimate the agent relayed (issue, transfer,
-- requeue, ticket.near) and the branch time of that figure.
-- None of these columns is indexed, so projection updates stay HOT.
ALTER TABLE tickets ADD COLUMN printed TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN place_position INTEGER;
ALTER TABLE tickets ADD COLUMN place_typical_s INTEGER;
ALTER TABLE tickets ADD COLUMN place_upper_s INTEGER;
ALTER TABLE tickets ADD COLUMN place_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE tickets DROP COLUMN place_at;
ALTER TABLE tickets DROP COLUMN place_upper_s;
ALTER TABLE tickets DROP COLUMN place_typical_s;
ALTER TABLE tickets DROP COLUMN place_position;
ALTER TABLE tickets DROP COLUMN printed;
