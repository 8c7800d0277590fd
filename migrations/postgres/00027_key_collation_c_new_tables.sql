-- +goose Up
-- 00019's rule for the tables added beside it: every column holding a
-- branch, ticket, service or token identifier compares as bytes (COLLATE
-- "C"). Under the database's collation these columns' indexes could not
-- serve a comparison with a "C" column (a join from branches, tickets or
-- telegram_token_links compares under "C", the non-default collation of the
-- two): hq_branch_tags, hq_template_overrides, hq_template_applied and
-- hq_branch_outcomes by branch, the book's tables by branch and service,
-- appt_bookings and appt_joins by ticket and token. The branch lists of
-- templates and rollouts (text[]) follow so every branch ID is under one
-- collation. 00021 added no identifier column (hq_api_tokens' expiry and
-- creator). Tags, check-in codes, booking and join IDs, names and notes keep
-- the database's collation.
--
-- The values are identifiers the system makes or validates (ASCII), so
-- equality is unchanged. No table is rewritten (text to text); the indexes
-- on these columns are rebuilt under the ALTER's lock.
ALTER TABLE hq_branch_tags ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_templates ALTER COLUMN target_branches TYPE TEXT[] COLLATE "C";
ALTER TABLE hq_template_overrides ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_branch_outcomes ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_template_rollouts ALTER COLUMN first_stage TYPE TEXT[] COLLATE "C",
    ALTER COLUMN rest TYPE TEXT[] COLLATE "C";
ALTER TABLE hq_template_applied ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE appt_schedules ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C";
ALTER TABLE appt_exceptions ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C";
ALTER TABLE appt_slot_locks ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C";
ALTER TABLE appt_codes ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE appt_bookings ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C",
    ALTER COLUMN ticket TYPE TEXT COLLATE "C",
    ALTER COLUMN token TYPE TEXT COLLATE "C";
ALTER TABLE appt_audit ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE appt_joins ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C",
    ALTER COLUMN ticket TYPE TEXT COLLATE "C",
    ALTER COLUMN token TYPE TEXT COLLATE "C";
ALTER TABLE appt_branch_tokens ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN token TYPE TEXT COLLATE "C";

-- +goose Down
ALTER TABLE appt_branch_tokens ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN token TYPE TEXT COLLATE "default";
ALTER TABLE appt_joins ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default",
    ALTER COLUMN ticket TYPE TEXT COLLATE "default",
    ALTER COLUMN token TYPE TEXT COLLATE "default";
ALTER TABLE appt_audit ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE appt_bookings ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default",
    ALTER COLUMN ticket TYPE TEXT COLLATE "default",
    ALTER COLUMN token TYPE TEXT COLLATE "default";
ALTER TABLE appt_codes ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE appt_slot_locks ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default";
ALTER TABLE appt_exceptions ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default";
ALTER TABLE appt_schedules ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default";
ALTER TABLE hq_template_applied ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_template_rollouts ALTER COLUMN first_stage TYPE TEXT[] COLLATE "default",
    ALTER COLUMN rest TYPE TEXT[] COLLATE "default";
ALTER TABLE hq_branch_outcomes ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_template_overrides ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_templates ALTER COLUMN target_branches TYPE TEXT[] COLLATE "default";
ALTER TABLE hq_branch_tags ALTER COLUMN branch TYPE TEXT COLLATE "default";
