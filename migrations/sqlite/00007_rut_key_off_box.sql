-- +goose Up
-- HQ's network-wide RUT hash key no longer lives on the box: whoever holds it
-- reverses any RUT hash in seconds (fewer than 10^8 RUTs). The box now seals a
-- customer's RUT to the cloud's public key (meta rut_seal_key, from the HQ
-- config) and only the cloud computes the network-wide hash. The stored key
-- goes, and so do the ticket hashes made with it (the box can no longer
-- compute them; its own hashes use a key derived from its data key). Outbox
-- events keep what they carry: the cloud's retention clears it once ingested.
-- secure_delete (the agent's writer has it on too): the deleted bytes are
-- zeroed, not left in the file's free space.
PRAGMA secure_delete = ON;
DELETE FROM meta WHERE key = 'rut_key';
UPDATE tickets SET rut_hash = '' WHERE rut_hash <> '';

-- +goose Down
-- Nothing to restore: the key is HQ's, sent again by an older cloud.
SELECT 1;
