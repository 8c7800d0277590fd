-- +goose Up
-- Ingest throughput: identifier keys compare as bytes (COLLATE "C").
-- Every ingested event inserts entries into B-tree indexes keyed by text
-- identifiers (branch, ticket, executive, token, service code); under the
-- database's collation each comparison goes through strcoll (varstr_cmp), a
-- tenth of the ingest's PostgreSQL time. These keys are identifiers the system
-- makes or validates (ASCII ids, codes, tokens), so byte order is the order
-- they need and equality is unchanged. Names, comments and other free text keep
-- the database's collation.
--
-- Every column holding a branch, ticket, executive or service identifier gets
-- the same collation, so joins between them (tickets.branch = branches.id, ...)
-- stay comparisons under one collation that every index on them serves (an
-- index only serves a comparison under its own collation). New tables should
-- declare such columns `TEXT COLLATE "C"` too.
--
-- No table is rewritten (text to text); the indexes on these columns are
-- rebuilt under the ALTER's lock: on a large events table, run it in a window.
ALTER TABLE branches ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE branch_sync ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE events ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE tickets ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN origin_service TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C",
    ALTER COLUMN executive TYPE TEXT COLLATE "C",
    ALTER COLUMN token TYPE TEXT COLLATE "C";
ALTER TABLE executive_sessions ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN executive TYPE TEXT COLLATE "C";
ALTER TABLE executive_activity ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN executive TYPE TEXT COLLATE "C";
ALTER TABLE ingest_rejects ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE ingest_quarantine ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE branch_reported_config ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE branch_commands ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN ticket TYPE TEXT COLLATE "C";
ALTER TABLE telegram_token_links ALTER COLUMN token TYPE TEXT COLLATE "C";
ALTER TABLE telegram_ticket_chats ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN ticket TYPE TEXT COLLATE "C";
ALTER TABLE telegram_service_settings ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C";
ALTER TABLE telegram_jobs ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN ticket TYPE TEXT COLLATE "C";
ALTER TABLE sms_ticket_phones ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN ticket TYPE TEXT COLLATE "C";
ALTER TABLE feedback ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN ticket TYPE TEXT COLLATE "C",
    ALTER COLUMN executive TYPE TEXT COLLATE "C",
    ALTER COLUMN service TYPE TEXT COLLATE "C";
ALTER TABLE enroll_codes ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE enroll_certificates ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE agent_offers ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_branch_settings ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_branch_hours ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_branch_configs ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_backlog_samples ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_alerts ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_counters ALTER COLUMN branch TYPE TEXT COLLATE "C";
ALTER TABLE hq_services ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN code TYPE TEXT COLLATE "C";
ALTER TABLE hq_executives ALTER COLUMN branch TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C";

-- +goose Down
ALTER TABLE hq_executives ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN id TYPE TEXT COLLATE "default";
ALTER TABLE hq_services ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN code TYPE TEXT COLLATE "default";
ALTER TABLE hq_counters ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_alerts ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_backlog_samples ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_branch_configs ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_branch_hours ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE hq_branch_settings ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE agent_offers ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE enroll_certificates ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE enroll_codes ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE feedback ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN ticket TYPE TEXT COLLATE "default",
    ALTER COLUMN executive TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default";
ALTER TABLE sms_ticket_phones ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN ticket TYPE TEXT COLLATE "default";
ALTER TABLE telegram_jobs ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN ticket TYPE TEXT COLLATE "default";
ALTER TABLE telegram_service_settings ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default";
ALTER TABLE telegram_ticket_chats ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN ticket TYPE TEXT COLLATE "default";
ALTER TABLE telegram_token_links ALTER COLUMN token TYPE TEXT COLLATE "default";
ALTER TABLE branch_commands ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN ticket TYPE TEXT COLLATE "default";
ALTER TABLE branch_reported_config ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE ingest_quarantine ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE ingest_rejects ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE executive_activity ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN executive TYPE TEXT COLLATE "default";
ALTER TABLE executive_sessions ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN executive TYPE TEXT COLLATE "default";
ALTER TABLE tickets ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN id TYPE TEXT COLLATE "default",
    ALTER COLUMN origin_service TYPE TEXT COLLATE "default",
    ALTER COLUMN service TYPE TEXT COLLATE "default",
    ALTER COLUMN executive TYPE TEXT COLLATE "default",
    ALTER COLUMN token TYPE TEXT COLLATE "default";
ALTER TABLE events ALTER COLUMN branch TYPE TEXT COLLATE "default",
    ALTER COLUMN id TYPE TEXT COLLATE "default";
ALTER TABLE branch_sync ALTER COLUMN branch TYPE TEXT COLLATE "default";
ALTER TABLE branches ALTER COLUMN id TYPE TEXT COLLATE "default";
