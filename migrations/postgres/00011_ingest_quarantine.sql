-- +goose Up
-- Events the ingest refused on their own (invalid UTF-8, NUL, a seq above
-- 2^63-1, a payload that does not fit its type, data PostgreSQL refuses), and
-- whole messages that could not be decoded, kept raw for inspection. A
-- quarantined event with a known seq (up to 2^63-1) also leaves a placeholder
-- in events (type cloud.quarantined) so the branch's stream goes on past it.
CREATE TABLE ingest_quarantine (
    id          BIGSERIAL PRIMARY KEY,
    branch      TEXT NOT NULL,
    seq         NUMERIC(20, 0),          -- NULL: not identified; may exceed BIGINT
    event_id    TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL DEFAULT '',
    raw         BYTEA NOT NULL,          -- as received (capped at 256 KiB)
    raw_sha256  BYTEA NOT NULL,          -- of the whole raw: a resend is stored once
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (branch, raw_sha256)
);
CREATE INDEX ingest_quarantine_branch_time ON ingest_quarantine (branch, received_at DESC);

-- +goose Down
DROP TABLE ingest_quarantine;
