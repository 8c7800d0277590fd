-- +goose Up
-- Published config snapshots no longer carry HQ's RUT hash key (rut_key):
-- branches get only the cloud's public sealing key (rut_seal_key) and the
-- hash key stays in the cloud's secret store, not in table rows.
UPDATE hq_branch_configs SET snapshot = snapshot - 'rut_key' WHERE snapshot ? 'rut_key';

-- +goose Down
SELECT 1;
