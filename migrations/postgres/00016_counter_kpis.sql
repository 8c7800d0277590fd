-- +goose Up
-- The executive's counter actions at HQ: the network's visit outcome codes
-- (published to every branch with its configuration), and each executive's
-- activity as the branch's events tell it (one row per change of state:
-- idle = signed in, not serving, not paused; serving; paused with its reason
-- code; offline), from which HQ's reports sum idle, serving and paused time
-- per executive and day.
CREATE TABLE hq_outcomes (
    code     TEXT PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    name     TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE executive_activity (
    branch    TEXT NOT NULL,
    executive TEXT NOT NULL,
    seq       BIGINT NOT NULL,                 -- the event's seq at the branch
    at        TIMESTAMPTZ NOT NULL,            -- the branch's clock
    state     TEXT NOT NULL CHECK (state IN ('idle', 'serving', 'paused', 'offline')),
    reason    TEXT NOT NULL DEFAULT '',        -- a pause's reason code ('other' for free text)
    PRIMARY KEY (branch, executive, seq)
);
CREATE INDEX executive_activity_at ON executive_activity (branch, at);

-- +goose Down
DROP TABLE executive_activity;
DROP TABLE hq_outcomes;
