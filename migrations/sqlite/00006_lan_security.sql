-- +goose Up
-- An executive whose PIN is shorter than the policy (4-digit PINs of older
-- versions keep working) is told to change it; set at his next sign-in.
ALTER TABLE executives ADD COLUMN pin_weak INTEGER NOT NULL DEFAULT 0;

-- Events of the branch-local admin command (executive add/remove/set-pin),
-- written by that command beside a running agent. The agent's single writer
-- moves them to the outbox (which only it may number) and deletes them.
CREATE TABLE admin_log (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    at   TEXT NOT NULL,
    data TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE admin_log;
ALTER TABLE executives DROP COLUMN pin_weak;
