-- +goose Up
-- HQ: users, sessions, API tokens, audit, alerts and the configuration HQ
-- publishes to branches. Owned by the HQ web (cloud/web, cloud/postgres/hq).

CREATE TABLE hq_regions (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT ''
);

-- Branch settings HQ edits beside the ingest's branches row.
CREATE TABLE hq_branch_settings (
    branch             TEXT PRIMARY KEY,
    opening_hours      TEXT NOT NULL DEFAULT '09:00-14:00',
    preferential_ratio INTEGER NOT NULL DEFAULT 2 CHECK (preferential_ratio >= 0),
    recall_limit       INTEGER NOT NULL DEFAULT 3 CHECK (recall_limit >= 0),
    pre_notice_ahead   INTEGER NOT NULL DEFAULT 3 CHECK (pre_notice_ahead >= 0),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE hq_services (
    branch         TEXT NOT NULL,
    code           TEXT NOT NULL CHECK (code ~ '^[A-Z]$'),
    name           TEXT NOT NULL,
    target_wait_s  INTEGER NOT NULL CHECK (target_wait_s > 0),
    mean_service_s INTEGER NOT NULL CHECK (mean_service_s > 0),
    priority       INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (branch, code)
);

CREATE TABLE hq_counters (
    branch TEXT NOT NULL,
    number INTEGER NOT NULL CHECK (number > 0),
    name   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (branch, number)
);

CREATE TABLE hq_executives (
    branch   TEXT NOT NULL,
    id       TEXT NOT NULL,
    name     TEXT NOT NULL,
    services TEXT[] NOT NULL DEFAULT '{}',
    pin_hash TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (branch, id)
);

-- Every published snapshot (event.Config JSON); the newest is what the branch
-- should run, branch_sync.config_version is what it reports running.
CREATE TABLE hq_branch_configs (
    branch       TEXT NOT NULL,
    version      BIGINT NOT NULL CHECK (version > 0),
    snapshot     JSONB NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (branch, version)
);

CREATE TABLE hq_users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'viewer')),
    regions       TEXT[] NOT NULL DEFAULT '{}',
    branches      TEXT[] NOT NULL DEFAULT '{}',
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TIMESTAMPTZ,
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sign-in sessions; the cookie holds a random token, the table its SHA-256.
CREATE TABLE hq_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES hq_users (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX hq_sessions_user ON hq_sessions (user_id);

-- API tokens for integrations (Authorization: Bearer); stored as SHA-256.
CREATE TABLE hq_api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'viewer')),
    regions      TEXT[] NOT NULL DEFAULT '{}',
    branches     TEXT[] NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- Audit: who, what, when and from where.
CREATE TABLE hq_audit (
    id     BIGSERIAL PRIMARY KEY,
    at     TIMESTAMPTZ NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    ip     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hq_audit_at ON hq_audit (at DESC);

-- Alerts: at most one open alert per branch and kind.
CREATE TABLE hq_alerts (
    id         BIGSERIAL PRIMARY KEY,
    branch     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    value      BIGINT NOT NULL DEFAULT 0,
    raised_at  TIMESTAMPTZ NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL,
    cleared_at TIMESTAMPTZ,
    acked_at   TIMESTAMPTZ,
    acked_by   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX hq_alerts_open ON hq_alerts (branch, kind) WHERE cleared_at IS NULL;

-- Backlog samples for the "backlog growing" alert.
CREATE TABLE hq_backlog_samples (
    branch  TEXT PRIMARY KEY,
    backlog BIGINT NOT NULL,
    at      TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE hq_backlog_samples;
DROP TABLE hq_alerts;
DROP TABLE hq_audit;
DROP TABLE hq_api_tokens;
DROP TABLE hq_sessions;
DROP TABLE hq_users;
DROP TABLE hq_branch_configs;
DROP TABLE hq_executives;
DROP TABLE hq_counters;
DROP TABLE hq_services;
DROP TABLE hq_branch_settings;
DROP TABLE hq_regions;
