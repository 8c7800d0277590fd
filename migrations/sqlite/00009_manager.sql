-- +goose Up
-- The branch manager role: an executive who may sign in on the branch page
-- (/branch) with his PIN and act there for the day (close a service, change an
-- executive's services, sign out an executive, post a TV message). Set by the
-- admin command (executive add --manager, executive set-manager).
ALTER TABLE executives ADD COLUMN manager INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE executives DROP COLUMN manager;
