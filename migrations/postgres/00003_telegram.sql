-- +goose Up
-- Telegram notifications: chats (encrypted), links to tickets, notification
-- jobs written in the same transaction as the events that cause them, updates
-- de-duplicated by update_id, and commands sent to branches (/cancelar).

-- A chat the bot talks to: a customer's private chat or a supervisors' group.
-- The chat ID is personal data: stored sealed (AES-GCM) and found by a keyed hash.
CREATE TABLE telegram_chats (
    id           BIGSERIAL PRIMARY KEY,
    chat_hash    TEXT NOT NULL UNIQUE,
    chat_enc     BYTEA NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'private' CHECK (kind IN ('private', 'group')),
    lang         TEXT NOT NULL DEFAULT 'es',
    -- Keyed hash of the customer's rut_hash, set with his consent (/recordar):
    -- his later tickets notify this chat without scanning.
    rut_lookup   TEXT UNIQUE,
    -- Per-chat pacing shared by every replica: no job for this chat is taken
    -- before next_send_at (1 s private, 3 s group).
    next_send_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- /start <token>: the token a chat scanned. Pending until a ticket with that
-- token is ingested (the event may still be in flight).
CREATE TABLE telegram_token_links (
    token      TEXT NOT NULL,
    chat_id    BIGINT NOT NULL REFERENCES telegram_chats (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (token, chat_id)
);
CREATE INDEX telegram_token_links_chat ON telegram_token_links (chat_id);

-- Chats notified about a ticket (by token or by consented RUT).
CREATE TABLE telegram_ticket_chats (
    branch     TEXT NOT NULL,
    ticket     TEXT NOT NULL,
    chat_id    BIGINT NOT NULL REFERENCES telegram_chats (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (branch, ticket, chat_id)
);
CREATE INDEX telegram_ticket_chats_chat ON telegram_ticket_chats (chat_id, created_at DESC);

-- Pre-notice threshold per service (tickets ahead); absent: the default.
CREATE TABLE telegram_service_settings (
    branch           TEXT NOT NULL,
    service          TEXT NOT NULL,
    pre_notice_ahead INTEGER NOT NULL CHECK (pre_notice_ahead >= 0),
    PRIMARY KEY (branch, service)
);

-- Outbound messages. (branch, ticket, kind, call_no, chat_id) is unique, so a
-- re-projected event or a duplicate update never sends twice. Replies to
-- commands use ticket '' and call_no = update_id; alert digests use ticket ''
-- and call_no = the digest number.
CREATE TABLE telegram_jobs (
    id          BIGSERIAL PRIMARY KEY,
    branch      TEXT NOT NULL,
    ticket      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    call_no     BIGINT NOT NULL DEFAULT 0,
    chat_id     BIGINT NOT NULL REFERENCES telegram_chats (id) ON DELETE CASCADE,
    params      JSONB NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'dropped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until TIMESTAMPTZ,
    last_error  TEXT NOT NULL DEFAULT '',
    message_id  BIGINT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at     TIMESTAMPTZ,
    UNIQUE (branch, ticket, kind, call_no, chat_id)
);
CREATE INDEX telegram_jobs_due ON telegram_jobs (run_at) WHERE status = 'pending';
CREATE INDEX telegram_jobs_chat ON telegram_jobs (chat_id, id) WHERE status = 'pending';
CREATE INDEX telegram_jobs_sending ON telegram_jobs (lease_until) WHERE status = 'sending';
CREATE INDEX telegram_jobs_dead ON telegram_jobs (created_at) WHERE status = 'dead';

-- The bot's shared state: a 429's retry_after pauses every replica's sends.
CREATE TABLE telegram_bot_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    paused_until TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
INSERT INTO telegram_bot_state (id) VALUES (1);

-- Updates already handled (webhook and getUpdates may both redeliver).
CREATE TABLE telegram_updates (
    update_id   BIGINT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Supervisor alert digests: the last alert ID already digested per group.
CREATE TABLE telegram_alert_cursor (
    chat_id  BIGINT PRIMARY KEY REFERENCES telegram_chats (id) ON DELETE CASCADE,
    alert_id BIGINT NOT NULL DEFAULT 0,
    digests  BIGINT NOT NULL DEFAULT 0
);

-- Commands for branches (ticket.cancel from /cancelar). Re-published while
-- pending; applied when the branch's ticket.cancelled event names the command
-- in data.request. The agent applies each command ID once.
CREATE TABLE branch_commands (
    id           TEXT PRIMARY KEY,
    branch       TEXT NOT NULL,
    type         TEXT NOT NULL,
    ticket       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'expired')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ,
    publishes    INTEGER NOT NULL DEFAULT 0,
    applied_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX branch_commands_once ON branch_commands (branch, ticket, type) WHERE status = 'pending';
CREATE INDEX branch_commands_pending ON branch_commands (created_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE branch_commands;
DROP TABLE telegram_alert_cursor;
DROP TABLE telegram_updates;
DROP TABLE telegram_bot_state;
DROP TABLE telegram_jobs;
DROP TABLE telegram_service_settings;
DROP TABLE telegram_ticket_chats;
DROP TABLE telegram_token_links;
DROP TABLE telegram_chats;
