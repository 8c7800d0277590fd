-- +goose Up
-- A branch's draft appointment rules (event.AppointmentRules, published in
-- the config snapshot as rules.appointments) beside its other draft rules
-- in hq_branch_settings, instead of the newest "rules.saved" line of the
-- book's audit (those lines stay: they are the history of who changed what).
-- NULL: never set (zero rules: defaults, remote joining closed).
ALTER TABLE hq_branch_settings ADD COLUMN appointment_rules JSONB;

INSERT INTO hq_branch_settings (branch, appointment_rules)
SELECT DISTINCT ON (branch) branch, detail::jsonb
FROM appt_audit WHERE action = 'rules.saved'
ORDER BY branch, at DESC, id DESC
ON CONFLICT (branch) DO UPDATE SET appointment_rules = EXCLUDED.appointment_rules;

-- The book's retention steps (cloud/postgres/retention_appointment.go) look
-- for the rows of days past the retention that still hold personal data:
-- these partial indexes hold only those rows, by day.
CREATE INDEX appt_bookings_retention ON appt_bookings (day) WHERE rut_hash NOT LIKE 'gone:%';
CREATE INDEX appt_joins_retention ON appt_joins (day)
    WHERE rut_hash IS NOT NULL OR chat IS NOT NULL OR token IS NOT NULL;
CREATE INDEX appt_codes_retention ON appt_codes (day);

-- +goose Down
DROP INDEX appt_codes_retention;
DROP INDEX appt_joins_retention;
DROP INDEX appt_bookings_retention;
ALTER TABLE hq_branch_settings DROP COLUMN appointment_rules;
