-- +goose Up
-- True offline durations, clock skew and the branch's own service targets.
-- Times named *_received_at and offline_at are the cloud's clock; a branch's
-- own clock is only trusted for its events' business times.
ALTER TABLE branch_sync
    -- When the cloud last received a live (not retained) online status.
    ADD COLUMN status_received_at TIMESTAMPTZ,
    -- When the agent went offline, NULL while online: the time its offline
    -- status (or last will) reached the cloud live, or its last sign of life
    -- when that message came only as a retained one (the cloud was down).
    ADD COLUMN offline_at TIMESTAMPTZ,
    -- The agent's clock minus the cloud's, from the last live status (ms).
    ADD COLUMN clock_skew_ms BIGINT,
    -- Target wait (seconds) of each service the branch runs, by code, from its status.
    ADD COLUMN service_targets JSONB NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE branch_sync
    DROP COLUMN status_received_at,
    DROP COLUMN offline_at,
    DROP COLUMN clock_skew_ms,
    DROP COLUMN service_targets;
