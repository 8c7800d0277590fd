-- +goose Up
-- Remote agent updates. A release is one agent version, a signed manifest and
-- an S3 object per platform; the signing key is offline, the cloud only
-- stores and offers what was signed.
CREATE TABLE agent_releases (
    version    TEXT NOT NULL,
    os         TEXT NOT NULL,
    arch       TEXT NOT NULL,
    manifest   BYTEA NOT NULL,
    signature  BYTEA NOT NULL,
    s3_key     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (version, os, arch)
);

-- A rollout offers a release to a ring of branches: a canary percentage
-- (a stable hash of branch and version), a region, or all. Later rollouts
-- win for the branches they cover. install_window is when boxes may install
-- it, in each branch's time zone.
CREATE TABLE agent_rollouts (
    id             BIGSERIAL PRIMARY KEY,
    version        TEXT NOT NULL,
    ring           TEXT NOT NULL CHECK (ring IN ('canary', 'region', 'all')),
    percent        INT NOT NULL DEFAULT 100 CHECK (percent BETWEEN 1 AND 100),
    region         TEXT NOT NULL DEFAULT '',
    install_window TEXT NOT NULL,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    stopped_at     TIMESTAMPTZ
);

-- The offer each branch holds (its retained release message).
CREATE TABLE agent_offers (
    branch     TEXT PRIMARY KEY,
    version    TEXT NOT NULL,
    rollout    BIGINT NOT NULL REFERENCES agent_rollouts (id),
    offered_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Each box's update steps arrive as agent.update events; HQ reads the last.
CREATE INDEX events_agent_update ON events (branch, seq DESC) WHERE type = 'agent.update';

-- +goose Down
DROP INDEX events_agent_update;
DROP TABLE agent_offers;
DROP TABLE agent_rollouts;
DROP TABLE agent_releases;
