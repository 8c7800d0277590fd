-- +goose Up
-- The branch agent's store. Times are RFC 3339 UTC text; days are YYYY-MM-DD in
-- the branch's time zone.

-- Key/value facts of this box: branch id, config version, last ack.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE services (
    code           TEXT PRIMARY KEY CHECK (length(code) = 1),
    name           TEXT NOT NULL,
    target_wait_s  INTEGER NOT NULL CHECK (target_wait_s > 0),
    mean_service_s INTEGER NOT NULL CHECK (mean_service_s > 0),
    priority       INTEGER NOT NULL DEFAULT 0,
    active         INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE counters (
    number INTEGER PRIMARY KEY CHECK (number > 0),
    name   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE executives (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    services     TEXT NOT NULL,              -- comma-separated codes, in preference order
    pin_hash     TEXT NOT NULL,              -- bcrypt
    failed_pins  INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    active       INTEGER NOT NULL DEFAULT 1
) STRICT;

-- An executive's session at a counter: one per executive, one per counter.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,           -- sha256 of the bearer token
    executive    TEXT NOT NULL UNIQUE REFERENCES executives (id),
    counter      INTEGER NOT NULL UNIQUE,
    paused       INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT NOT NULL DEFAULT '',
    started_at   TEXT NOT NULL,
    changed_at   TEXT NOT NULL
) STRICT;

-- Gap-free numbering per business day and service.
CREATE TABLE numbering (
    day     TEXT NOT NULL,
    service TEXT NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (day, service)
) STRICT;

CREATE TABLE tickets (
    id             TEXT PRIMARY KEY,
    day            TEXT NOT NULL,
    origin_service TEXT NOT NULL,            -- the letter it was numbered in
    number         INTEGER NOT NULL,
    service        TEXT NOT NULL,            -- the queue it is in now
    priority       TEXT NOT NULL,
    status         TEXT NOT NULL,
    counter        INTEGER,
    executive      TEXT,
    recalls        INTEGER NOT NULL DEFAULT 0,
    outcome        TEXT NOT NULL DEFAULT '',
    rut_enc        BLOB,                     -- AES-GCM, never plain
    rut_hash       TEXT NOT NULL DEFAULT '',
    token          TEXT NOT NULL UNIQUE,     -- Telegram link token
    channel        TEXT NOT NULL DEFAULT 'kiosk',
    queued_at      TEXT NOT NULL,
    first_in_line  INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    called_at      TEXT,                     -- the last call (a requeued ticket is called again)
    recalled_at    TEXT,                     -- the last recall of that call
    started_at     TEXT,
    ended_at       TEXT,
    quoted_typical_s INTEGER NOT NULL DEFAULT 0,
    quoted_upper_s   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (day, origin_service, number)
) STRICT;
CREATE INDEX tickets_waiting ON tickets (service, status, first_in_line DESC, queued_at) WHERE status = 'waiting';
CREATE INDEX tickets_day ON tickets (day, status);
CREATE INDEX tickets_called ON tickets (day, called_at) WHERE called_at IS NOT NULL;

-- A kiosk retry with the same Idempotency-Key returns the first ticket.
CREATE TABLE idempotency (
    key        TEXT PRIMARY KEY,
    ticket     TEXT NOT NULL REFERENCES tickets (id),
    request    TEXT NOT NULL,                -- sha256 of the request, to refuse a reused key
    created_at TEXT NOT NULL
) STRICT;

-- Transactional outbox: every state change writes its events here in the same
-- transaction, seq gap-free per branch. Rows go only when the cloud acks them.
CREATE TABLE outbox (
    seq  INTEGER PRIMARY KEY,
    id   TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    at   TEXT NOT NULL,
    data TEXT NOT NULL
) STRICT;

-- Cloud commands applied, so each is applied once.
CREATE TABLE commands (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    result     TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE commands;
DROP TABLE outbox;
DROP TABLE idempotency;
DROP TABLE tickets;
DROP TABLE numbering;
DROP TABLE sessions;
DROP TABLE executives;
DROP TABLE counters;
DROP TABLE services;
DROP TABLE meta;
