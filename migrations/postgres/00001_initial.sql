-- +goose Up
-- The cloud's system of record.

CREATE TABLE branches (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    region     TEXT NOT NULL DEFAULT '',
    time_zone  TEXT NOT NULL DEFAULT 'America/Santiago',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Append-only copy of every branch event. (branch, seq) makes ingest idempotent.
CREATE TABLE events (
    branch      TEXT NOT NULL,
    seq         BIGINT NOT NULL CHECK (seq > 0),
    id          TEXT NOT NULL,
    type        TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    data        JSONB NOT NULL,
    -- clock_timestamp(), not now(): the sync lag benchmark reads it.
    received_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (branch, seq)
);

-- Sync state per branch: applied_seq is the contiguous high-water mark (every
-- event up to it is stored and projected; this is what is acked). max_seq is the
-- highest seen; max_seq > applied_seq means a gap.
CREATE TABLE branch_sync (
    branch         TEXT PRIMARY KEY,
    applied_seq    BIGINT NOT NULL DEFAULT 0,
    max_seq        BIGINT NOT NULL DEFAULT 0,
    last_event_at  TIMESTAMPTZ,
    last_ingest_at TIMESTAMPTZ,
    online         BOOLEAN NOT NULL DEFAULT false,
    backlog        BIGINT NOT NULL DEFAULT 0,
    config_version BIGINT NOT NULL DEFAULT 0,
    agent_version  TEXT NOT NULL DEFAULT '',
    status_at      TIMESTAMPTZ,
    -- Start of the agent's broker session the status belongs to (see RecordStatus).
    status_since   TIMESTAMPTZ,
    -- Agent's own counters from its status: last seq written and last ack seen.
    agent_last_seq BIGINT NOT NULL DEFAULT 0,
    agent_last_ack BIGINT NOT NULL DEFAULT 0
);

-- Projection: each ticket's current state.
CREATE TABLE tickets (
    branch           TEXT NOT NULL,
    id               TEXT NOT NULL,
    day              DATE NOT NULL,
    origin_service   TEXT NOT NULL,
    number           INTEGER NOT NULL,
    service          TEXT NOT NULL,
    priority         TEXT NOT NULL,
    status           TEXT NOT NULL,
    counter          INTEGER,
    executive        TEXT,
    recalls          INTEGER NOT NULL DEFAULT 0,
    outcome          TEXT NOT NULL DEFAULT '',
    token            TEXT,
    rut_hash         TEXT,
    channel          TEXT NOT NULL DEFAULT '',
    position         INTEGER NOT NULL DEFAULT 0,
    quoted_typical_s INTEGER NOT NULL DEFAULT 0,
    quoted_upper_s   INTEGER NOT NULL DEFAULT 0,
    queued_at        TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    called_at        TIMESTAMPTZ,
    started_at       TIMESTAMPTZ,
    ended_at         TIMESTAMPTZ,
    last_seq         BIGINT NOT NULL,
    PRIMARY KEY (branch, id),
    UNIQUE (branch, day, origin_service, number)
);
CREATE INDEX tickets_branch_day ON tickets (branch, day, status);
CREATE UNIQUE INDEX tickets_token ON tickets (token) WHERE token IS NOT NULL AND token <> '';

-- Projection: executives' live state per branch.
CREATE TABLE executive_sessions (
    branch     TEXT NOT NULL,
    executive  TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    counter    INTEGER NOT NULL,
    state      TEXT NOT NULL,   -- available, paused, logged_out
    reason     TEXT NOT NULL DEFAULT '',
    since      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (branch, executive)
);

-- Messages refused at ingest, for diagnosis (never acked).
CREATE TABLE ingest_rejects (
    id          BIGSERIAL PRIMARY KEY,
    branch      TEXT NOT NULL DEFAULT '',
    topic       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE ingest_rejects;
DROP TABLE executive_sessions;
DROP TABLE tickets;
DROP TABLE branch_sync;
DROP TABLE events;
DROP TABLE branches;
