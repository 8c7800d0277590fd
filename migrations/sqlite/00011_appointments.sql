-- +goose Up
-- Appointments and the virtual queue (docs/appointments.md). The cloud owns
-- the book and sends each booking (appointment.book); the branch keeps the
-- bookings it holds so the kiosk checks customers in with the WAN down. No
-- RUT in clear: rut_check is seal.CheckInHash(branch, day, rut), rut_sealed
-- the RUT sealed to the cloud's key (carried onto the ticket at check-in).
CREATE TABLE appointments (
    id         TEXT PRIMARY KEY,              -- the cloud's booking ID
    rev        INTEGER NOT NULL,
    service    TEXT NOT NULL,
    day        TEXT NOT NULL,                 -- business day of start
    start_at   TEXT NOT NULL,
    end_at     TEXT NOT NULL,
    code       TEXT NOT NULL DEFAULT '',      -- 6-digit check-in code
    rut_check  TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    token      TEXT NOT NULL DEFAULT '',
    rut_sealed TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL CHECK (status IN ('received', 'cancelled', 'checked_in', 'missed')),
    ticket     TEXT NOT NULL DEFAULT '',      -- the ticket issued at check-in
    late       INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX appointments_day ON appointments (day, status);

-- A ticket of a checked-in appointment (appointment, due: the slot's start,
-- the calling rule's due time) or a remote join (join_cmd: the cloud's
-- ticket.join command; present 0 until its customer checks in; hold_until and
-- slides: it reached the front unchecked and slid back). checkin_code and
-- rut_check let the kiosk check a remote ticket in by code or RUT.
ALTER TABLE tickets ADD COLUMN appointment TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN due TEXT;
ALTER TABLE tickets ADD COLUMN join_cmd TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN present INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN hold_until TEXT;
ALTER TABLE tickets ADD COLUMN slides INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN checkin_code TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN rut_check TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tickets DROP COLUMN rut_check;
ALTER TABLE tickets DROP COLUMN checkin_code;
ALTER TABLE tickets DROP COLUMN slides;
ALTER TABLE tickets DROP COLUMN hold_until;
ALTER TABLE tickets DROP COLUMN present;
ALTER TABLE tickets DROP COLUMN join_cmd;
ALTER TABLE tickets DROP COLUMN due;
ALTER TABLE tickets DROP COLUMN appointment;
DROP TABLE appointments;
