-- +goose Up
-- The customer's voice (a survey after service) and a second channel (SMS).

-- One delivery pipeline for both channels: a job says its channel; its
-- recipient is a row of telegram_chats, whose kind 'sms' holds a mobile
-- number (sealed to the cloud's key, found by keyed hash) instead of a chat.
ALTER TABLE telegram_jobs ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram'
    CHECK (channel IN ('telegram', 'sms'));
ALTER TABLE telegram_chats DROP CONSTRAINT telegram_chats_kind_check;
ALTER TABLE telegram_chats ADD CONSTRAINT telegram_chats_kind_check CHECK (kind IN ('private', 'group', 'sms'));
-- An SMS recipient that opted out (SNS said so): no more jobs for it.
ALTER TABLE telegram_chats ADD COLUMN opted_out_at TIMESTAMPTZ;
CREATE INDEX telegram_jobs_channel_due ON telegram_jobs (channel, run_at) WHERE status = 'pending';

-- The number a customer gave at the kiosk for a ticket (with consent).
CREATE TABLE sms_ticket_phones (
    branch     TEXT NOT NULL,
    ticket     TEXT NOT NULL,
    chat_id    BIGINT NOT NULL REFERENCES telegram_chats (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (branch, ticket)
);
CREATE INDEX sms_ticket_phones_chat ON sms_ticket_phones (chat_id);
CREATE INDEX sms_ticket_phones_created ON sms_ticket_phones (created_at);

-- One survey per visit (branch, ticket), whatever the channel that answers
-- it: asked on Telegram after "Finalizar" or answered on the counter tablet.
-- The visit's context is copied at creation, so the report needs no join and
-- survives the tickets' retention. The comment is stored already masked.
CREATE TABLE feedback (
    id           BIGSERIAL PRIMARY KEY,
    branch       TEXT NOT NULL,
    ticket       TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('telegram', 'tablet')),
    chat_id      BIGINT REFERENCES telegram_chats (id) ON DELETE SET NULL,
    day          DATE NOT NULL,
    service      TEXT NOT NULL DEFAULT '',
    executive    TEXT NOT NULL DEFAULT '',
    counter      INTEGER,
    outcome      TEXT NOT NULL DEFAULT '',
    wait_s       INTEGER,
    service_s    INTEGER,
    csat         SMALLINT CHECK (csat BETWEEN 1 AND 5),
    nps          SMALLINT CHECK (nps BETWEEN 0 AND 10),
    comment      TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    answered_at  TIMESTAMPTZ,
    alerted      BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (branch, ticket)
);
CREATE INDEX feedback_answered ON feedback (answered_at) WHERE answered_at IS NOT NULL;
CREATE INDEX feedback_chat ON feedback (chat_id, created_at DESC) WHERE chat_id IS NOT NULL;

-- +goose Down
DROP TABLE feedback;
DROP TABLE sms_ticket_phones;
DROP INDEX telegram_jobs_channel_due;
DELETE FROM telegram_jobs WHERE channel = 'sms';
DELETE FROM telegram_chats WHERE kind = 'sms';
ALTER TABLE telegram_chats DROP COLUMN opted_out_at;
ALTER TABLE telegram_chats DROP CONSTRAINT telegram_chats_kind_check;
ALTER TABLE telegram_chats ADD CONSTRAINT telegram_chats_kind_check CHECK (kind IN ('private', 'group'));
ALTER TABLE telegram_jobs DROP COLUMN channel;
