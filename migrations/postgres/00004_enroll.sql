-- +goose Up
-- Enrolment of branch boxes: one-time codes and the certificates issued to them.
-- Owned by cloud/enroll.

-- A one-time enrolment code: only its SHA-256 is stored; it expires and is used
-- at most once (used_at set in the same statement that checks it).
CREATE TABLE enroll_codes (
    code_hash   TEXT PRIMARY KEY,
    branch      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    used_from   TEXT NOT NULL DEFAULT '',
    CHECK (expires_at > created_at)
);
CREATE INDEX enroll_codes_branch ON enroll_codes (branch, created_at DESC);

-- Every certificate issued to a branch box, by SHA-256 fingerprint of its DER.
-- Renewal and the resume endpoint accept proof of possession of an active one.
CREATE TABLE enroll_certificates (
    fingerprint TEXT PRIMARY KEY,
    branch      TEXT NOT NULL,
    provisioner TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',   -- AWS IoT certificate ID, when any
    serial      TEXT NOT NULL DEFAULT '',
    not_after   TIMESTAMPTZ NOT NULL,
    issued_at   TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX enroll_certificates_branch ON enroll_certificates (branch, issued_at DESC);

-- +goose Down
DROP TABLE enroll_certificates;
DROP TABLE enroll_codes;
