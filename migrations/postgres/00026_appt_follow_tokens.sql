-- +goose Up
-- A chat follows a booking or a remote join by its t.me token (/start <token>):
-- the lookup must not scan the book. Tokens are random and unique.
CREATE UNIQUE INDEX appt_bookings_token ON appt_bookings (token) WHERE token IS NOT NULL;
CREATE UNIQUE INDEX appt_joins_token ON appt_joins (token) WHERE token IS NOT NULL;

-- +goose Down
DROP INDEX appt_joins_token;
DROP INDEX appt_bookings_token;
