-- +goose Up
-- What each branch reports running (event config.reported, projected by the
-- ingest): services, counters and executives as the branch's own tables hold
-- them, never PINs. HQ diffs its draft against it before a publication; the
-- first report of a branch HQ never published to is imported into HQ's draft
-- (imported_at says when).
CREATE TABLE branch_reported_config (
    branch      TEXT PRIMARY KEY,
    report      JSONB NOT NULL,
    seq         BIGINT NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL,
    imported_at TIMESTAMPTZ
);

-- +goose Down
DROP TABLE branch_reported_config;
