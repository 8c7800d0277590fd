-- +goose Up
-- Configuration templates carry appointment rules (event.AppointmentRules:
-- check-in window, run of appointments, remote joining per service, holds):
-- a part of their own beside the calling rules, NULL when the template does
-- not manage them, and a field a branch may keep as its own
-- (appointment_rules). Booking schedules are not templated: they are each
-- branch's staffing and apply at once, outside publications
-- (docs/appointments.md).
ALTER TABLE hq_templates ADD COLUMN appointment_rules JSONB;

ALTER TABLE hq_template_overrides DROP CONSTRAINT hq_template_overrides_field_check;
ALTER TABLE hq_template_overrides ADD CONSTRAINT hq_template_overrides_field_check
    CHECK (field ~ '^(opening_hours|rules|appointment_rules|outcomes|service:[A-Z])$');

-- +goose Down
DELETE FROM hq_template_overrides WHERE field = 'appointment_rules';
ALTER TABLE hq_template_overrides DROP CONSTRAINT hq_template_overrides_field_check;
ALTER TABLE hq_template_overrides ADD CONSTRAINT hq_template_overrides_field_check
    CHECK (field ~ '^(opening_hours|rules|outcomes|service:[A-Z])$');
ALTER TABLE hq_templates DROP COLUMN appointment_rules;
