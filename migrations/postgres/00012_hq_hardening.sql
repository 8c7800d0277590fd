-- +goose Up
-- HQ web hardening (issue 13).

-- The first admin's generated password must be changed at first sign-in.
ALTER TABLE hq_users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false;

-- Aggregated audit entries: refused sign-ins, CSRF failures and denied
-- accesses are counted in one row per (action, actor, target, detail, ip) and
-- minute (bucket), so an unauthenticated flood cannot grow the table by a row
-- per request. Ordinary entries keep bucket NULL and count 1.
ALTER TABLE hq_audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count > 0);
ALTER TABLE hq_audit ADD COLUMN bucket TIMESTAMPTZ;
CREATE UNIQUE INDEX hq_audit_aggregate ON hq_audit (action, actor, target, detail, ip, bucket) WHERE bucket IS NOT NULL;

-- +goose Down
DROP INDEX hq_audit_aggregate;
ALTER TABLE hq_audit DROP COLUMN bucket;
ALTER TABLE hq_audit DROP COLUMN count;
ALTER TABLE hq_users DROP COLUMN must_change_password;
