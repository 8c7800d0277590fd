-- +goose Up
-- Periodic jobs whose passes one replica at a time runs (postgres.Passes;
-- the agent rollout offers): the replica whose claim set this row runs the
-- pass; until is when another may claim the next one (a while after the
-- pass ended, at once after a failed one, or when the claim's hold runs out
-- because its replica died mid-pass). holder is the claim's random token, so
-- a replica ends only its own claim.
CREATE TABLE cluster_passes (
    job    TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE cluster_passes;
