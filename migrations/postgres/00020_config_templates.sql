-- +goose Up
-- Managing the network as a network (issue #18): free branch tags, named
-- configuration templates (services, rules, opening hours, outcome codes)
-- applied to a region, a tag or a list of branches, the fields a branch keeps
-- as its own, and staged bulk publications. Owned by cloud/postgres/hq
-- (template*.go).

CREATE TABLE hq_branch_tags (
    branch TEXT NOT NULL,
    tag    TEXT NOT NULL CHECK (tag ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
    PRIMARY KEY (branch, tag)
);
CREATE INDEX hq_branch_tags_tag ON hq_branch_tags (tag);

-- A template's parts are NULL when it does not manage them (the branch's
-- draft keeps its own). version goes up with every change.
CREATE TABLE hq_templates (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    target_kind     TEXT NOT NULL CHECK (target_kind IN ('region', 'tag', 'branches')),
    target_value    TEXT NOT NULL DEFAULT '',
    target_branches TEXT[] NOT NULL DEFAULT '{}',
    services        JSONB,
    rules           JSONB,
    opening_hours   TEXT,
    outcomes        JSONB,
    updated_at      TIMESTAMPTZ NOT NULL,
    updated_by      TEXT NOT NULL
);

-- A field a branch keeps as its own under a template: opening_hours, rules,
-- outcomes or service:<code>.
CREATE TABLE hq_template_overrides (
    template_id BIGINT NOT NULL REFERENCES hq_templates (id) ON DELETE CASCADE,
    branch      TEXT NOT NULL,
    field       TEXT NOT NULL CHECK (field ~ '^(opening_hours|rules|outcomes|service:[A-Z])$'),
    PRIMARY KEY (template_id, branch, field)
);

-- A branch's own outcome codes, set by a template (none: the network's).
CREATE TABLE hq_branch_outcomes (
    branch   TEXT PRIMARY KEY,
    outcomes JSONB NOT NULL
);

-- A staged publication of a template: the first stage is published at once,
-- the rest when HQ confirms. results holds one entry per branch done.
CREATE TABLE hq_template_rollouts (
    id               BIGSERIAL PRIMARY KEY,
    template_id      BIGINT NOT NULL REFERENCES hq_templates (id) ON DELETE CASCADE,
    template_version INTEGER NOT NULL,
    first_stage      TEXT[] NOT NULL,
    rest             TEXT[] NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('first_stage', 'done', 'cancelled')),
    results          JSONB NOT NULL DEFAULT '[]',
    created_at       TIMESTAMPTZ NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- Which template version each branch's published config came from.
CREATE TABLE hq_template_applied (
    branch           TEXT NOT NULL,
    template_id      BIGINT NOT NULL REFERENCES hq_templates (id) ON DELETE CASCADE,
    template_version INTEGER NOT NULL,
    config_version   BIGINT NOT NULL,
    applied_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (branch, template_id)
);

-- +goose Down
DROP TABLE hq_template_applied;
DROP TABLE hq_template_rollouts;
DROP TABLE hq_branch_outcomes;
DROP TABLE hq_template_overrides;
DROP TABLE hq_templates;
DROP TABLE hq_branch_tags;
