-- +goose Up
-- A mobile number a customer gave at the kiosk for SMS notices (with his
-- consent): AES-GCM under the box's data key, erased by retention with the
-- RUT. The cloud receives it only sealed to its public key (ticket.issued).
CREATE TABLE ticket_phones (
    ticket    TEXT PRIMARY KEY,
    day       TEXT NOT NULL,
    phone_enc BLOB NOT NULL
);
CREATE INDEX ticket_phones_day ON ticket_phones (day);

-- +goose Down
DROP TABLE ticket_phones;
