-- +goose Up
-- The executive's counter actions: a waiting ticket transferred to a counter
-- or a named executive (only they call it), a walk-in's name (AES-GCM, never
-- plain), a pause's reason code, and each ticket's history today for the
-- executive's view of the customer in front of him (no personal data: types,
-- times, counters, executives and short notes the executive wrote).
ALTER TABLE tickets ADD COLUMN target_counter INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN target_executive TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN name_enc BLOB;
ALTER TABLE sessions ADD COLUMN pause_code TEXT NOT NULL DEFAULT '';

CREATE TABLE ticket_log (
    ticket    TEXT NOT NULL,
    seq       INTEGER NOT NULL,             -- the event's outbox seq
    type      TEXT NOT NULL,
    at        TEXT NOT NULL,
    service   TEXT NOT NULL DEFAULT '',
    counter   INTEGER NOT NULL DEFAULT 0,
    executive TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ticket, seq)
) STRICT;

-- +goose Down
DROP TABLE ticket_log;
ALTER TABLE sessions DROP COLUMN pause_code;
ALTER TABLE tickets DROP COLUMN name_enc;
ALTER TABLE tickets DROP COLUMN target_executive;
ALTER TABLE tickets DROP COLUMN target_counter;
