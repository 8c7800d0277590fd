-- +goose Up
-- Ingest throughput: ticket projection updates become HOT (heap-only) updates.
-- Every projected event changes a ticket's status, and status was indexed by
-- tickets_branch_day, so each update wrote a new entry in all four indexes of
-- tickets. The (branch, day) lookups it served (HQ overview and branch view,
-- notify, enrol) use the (branch, day, origin_service, number) unique key's
-- prefix instead, filtering status on the few hundred rows of a branch-day.
-- Without an indexed column changing, an update stays on its page when there is
-- room: fillfactor 80 leaves that room in newly written pages.
DROP INDEX tickets_branch_day;
ALTER TABLE tickets SET (fillfactor = 80);

-- +goose Down
ALTER TABLE tickets RESET (fillfactor);
CREATE INDEX tickets_branch_day ON tickets (branch, day, status);
