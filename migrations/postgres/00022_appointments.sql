-- +goose Up
-- Appointments and the virtual queue, the cloud's side (docs/appointments.md):
-- HQ's booking schedules per branch and service, the book (bookings), remote
-- joins, and the payload of branch commands so appointment.book/cancel and
-- ticket.join/check_in are stored and published again like ticket.cancel.

-- A service's booking schedule at a branch. weekly: weekday ("mon" … "sun")
-- → [{"from":"09:00","to":"13:00","executives":2}]; a missing day takes no
-- bookings. A slot's places: floor(executives × (100 − reserve_pct) / 100).
CREATE TABLE appt_schedules (
    branch       TEXT NOT NULL,
    service      TEXT NOT NULL CHECK (service ~ '^[A-Z]$'),
    slot_min     INTEGER NOT NULL DEFAULT 15 CHECK (slot_min BETWEEN 5 AND 240),
    reserve_pct  INTEGER NOT NULL DEFAULT 30 CHECK (reserve_pct BETWEEN 0 AND 100),
    horizon_days INTEGER NOT NULL DEFAULT 14 CHECK (horizon_days BETWEEN 1 AND 90),
    weekly       JSONB NOT NULL DEFAULT '{}',
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (branch, service)
);

-- A date with other hours than the week's: hours [] is closed that day.
CREATE TABLE appt_exceptions (
    branch  TEXT NOT NULL,
    service TEXT NOT NULL,
    day     DATE NOT NULL,
    hours   JSONB NOT NULL DEFAULT '[]',
    note    TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 80),
    PRIMARY KEY (branch, service, day),
    FOREIGN KEY (branch, service) REFERENCES appt_schedules (branch, service) ON DELETE CASCADE
);

-- One row per slot that was ever booked: Book locks it (INSERT … ON
-- CONFLICT DO UPDATE) before counting the slot's bookings, so two customers
-- racing for its last place are serialised and exactly one wins.
CREATE TABLE appt_slot_locks (
    branch    TEXT NOT NULL,
    service   TEXT NOT NULL,
    start_at  TIMESTAMPTZ NOT NULL,
    locked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (branch, service, start_at)
);

-- Check-in codes handed out per branch and day (bookings and remote joins
-- share them: the kiosk takes either). ref is the booking or join.
CREATE TABLE appt_codes (
    branch TEXT NOT NULL,
    day    DATE NOT NULL,
    code   TEXT NOT NULL CHECK (code ~ '^[0-9]{6}$'),
    ref    TEXT NOT NULL,
    PRIMARY KEY (branch, day, code)
);

-- The book. rut_hash is the keyed hash of the RUT (seal.RUTKeys; never the
-- RUT), rut_sealed the RUT sealed to the cloud's own key (carried to the
-- ticket at check-in). chat is the Telegram chat that follows the booking.
CREATE TABLE appt_bookings (
    id           TEXT PRIMARY KEY,
    branch       TEXT NOT NULL,
    service      TEXT NOT NULL,
    start_at     TIMESTAMPTZ NOT NULL,
    end_at       TIMESTAMPTZ NOT NULL CHECK (end_at > start_at),
    day          DATE NOT NULL,
    rev          INTEGER NOT NULL DEFAULT 1 CHECK (rev > 0),
    code         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'booked'
        CHECK (status IN ('booked', 'received', 'declined', 'cancelled', 'checked_in', 'missed')),
    reason       TEXT NOT NULL DEFAULT '',
    cancelled_by TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    rut_hash     TEXT NOT NULL,
    rut_sealed   TEXT NOT NULL DEFAULT '',
    chat         BIGINT REFERENCES telegram_chats (id) ON DELETE SET NULL,
    token        TEXT,
    ticket       TEXT,
    printed      TEXT,
    late         BOOLEAN NOT NULL DEFAULT false,
    checked_at   TIMESTAMPTZ,
    command      TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One active booking per RUT, branch and day; codes unique among active ones.
CREATE UNIQUE INDEX appt_bookings_rut ON appt_bookings (branch, day, rut_hash)
    WHERE status IN ('booked', 'received', 'checked_in');
CREATE UNIQUE INDEX appt_bookings_code ON appt_bookings (branch, day, code)
    WHERE status IN ('booked', 'received', 'checked_in');
-- Slots count a service's active bookings of a day.
CREATE INDEX appt_bookings_slot ON appt_bookings (branch, service, day, start_at)
    WHERE status IN ('booked', 'received', 'checked_in');
CREATE INDEX appt_bookings_day ON appt_bookings (branch, day, start_at);

-- HQ's audit of the book (cancel by HQ, schedule changes).
CREATE TABLE appt_audit (
    id      BIGSERIAL PRIMARY KEY,
    branch  TEXT NOT NULL,
    booking TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '',
    at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX appt_audit_branch ON appt_audit (branch, at DESC);

-- Remote joins (the virtual queue). id is the ticket.join command's ID.
CREATE TABLE appt_joins (
    id          TEXT PRIMARY KEY,
    branch      TEXT NOT NULL,
    service     TEXT NOT NULL,
    day         DATE NOT NULL,
    code        TEXT NOT NULL,
    priority    TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'issued', 'refused', 'checked_in', 'expired', 'closed')),
    reason      TEXT NOT NULL DEFAULT '',
    rut_hash    TEXT,
    chat        BIGINT REFERENCES telegram_chats (id) ON DELETE SET NULL,
    token       TEXT,
    ticket      TEXT,
    printed     TEXT,
    position    INTEGER NOT NULL DEFAULT 0,
    typical_s   INTEGER NOT NULL DEFAULT 0,
    upper_s     INTEGER NOT NULL DEFAULT 0,
    hold_until  TIMESTAMPTZ,
    slides      INTEGER NOT NULL DEFAULT 0,
    checked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX appt_joins_ticket ON appt_joins (branch, ticket) WHERE ticket IS NOT NULL;
CREATE INDEX appt_joins_day ON appt_joins (branch, day);

-- The static QR at a branch's entrance: remote tickets check in with it
-- (ticket.check_in). One random token per branch, made on first use.
CREATE TABLE appt_branch_tokens (
    branch     TEXT PRIMARY KEY,
    token      TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Commands: the appointment/join order they carry (event.Command's
-- appointment or join, as JSON) and when to give up on them (NULL: 24 h after
-- created_at, as before). Published again with their payload until the
-- answer event marks them applied.
ALTER TABLE branch_commands ADD COLUMN payload JSONB;
ALTER TABLE branch_commands ADD COLUMN expires_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE branch_commands DROP COLUMN expires_at;
ALTER TABLE branch_commands DROP COLUMN payload;
DROP TABLE appt_branch_tokens;
DROP TABLE appt_joins;
DROP TABLE appt_audit;
DROP TABLE appt_bookings;
DROP TABLE appt_codes;
DROP TABLE appt_slot_locks;
DROP TABLE appt_exceptions;
DROP TABLE appt_schedules;
