-- +goose Up
-- Opening hours that are enforced at the branch: the public holidays HQ keeps
-- per year for the whole network (Chile's feriados), and per-branch schedule
-- settings beside hq_branch_settings.opening_hours (which stays every day's
-- hours): hours per weekday, the grace after closing before the business day
-- ends, and per-service last-ticket cut-offs. All reach the branch in the
-- published config snapshot (event.Hours).

CREATE TABLE hq_holidays (
    day        DATE PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 80),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE hq_branch_hours (
    branch          TEXT PRIMARY KEY,
    -- weekday ("mon" … "sun") → ranges, "" closed; a missing day uses opening_hours
    weekly_hours    JSONB NOT NULL DEFAULT '{}',
    -- NULL: the default grace (event.DefaultCloseGraceMin)
    close_grace_min INTEGER CHECK (close_grace_min BETWEEN 0 AND 240),
    -- service code → "30" (minutes before closing) or "13:30"
    last_ticket     JSONB NOT NULL DEFAULT '{}',
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE hq_branch_hours;
DROP TABLE hq_holidays;
