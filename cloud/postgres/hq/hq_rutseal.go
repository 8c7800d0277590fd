package hq

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
)

// RUTSealActor is who the audit names for configs published again to carry
// the cloud's RUT sealing key.
const RUTSealActor = "system:rut-seal"

// RepublishRUTSealKey brings every branch's config up to the cloud's RUT
// sealing public key (sealKey, base64; "" when the cloud has none): each
// branch whose newest snapshot carries another key (or none, as every
// snapshot published before the key moved off the boxes) gets that snapshot
// stored again as the next version, with sealKey and without rut_key, audited
// as config.publish by RUTSealActor. It returns them for the caller to send
// (retained, so the branch's retained config no longer holds the old hash
// key). Nothing else of the snapshot changes; replicas starting together bump
// each branch once (the publish lock, then a re-check).
func (s *Store) RepublishRUTSealKey(ctx context.Context, sealKey string) ([]event.Config, error) {
	rows, err := s.pool.Query(ctx, `SELECT branch FROM (
			SELECT DISTINCT ON (branch) branch, snapshot FROM hq_branch_configs ORDER BY branch, version DESC) c
		WHERE coalesce(snapshot->>'rut_seal_key', '') <> $1 OR snapshot ? 'rut_key' ORDER BY branch`, sealKey)
	if err != nil {
		return nil, wrap("rut seal branches", err)
	}
	branches, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("rut seal branches", err)
	}
	var out []event.Config
	for _, b := range branches {
		c, ok, err := s.republishRUTSeal(ctx, b, sealKey)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Store) republishRUTSeal(ctx context.Context, branch, sealKey string) (event.Config, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return event.Config{}, false, wrap("rut seal republish", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('hq_publish:' || $1))`, branch); err != nil {
		return event.Config{}, false, wrap("rut seal lock", err)
	}
	var raw []byte
	if err := tx.QueryRow(ctx, `SELECT snapshot FROM hq_branch_configs WHERE branch = $1 ORDER BY version DESC LIMIT 1`,
		branch).Scan(&raw); err != nil {
		return event.Config{}, false, wrap("rut seal snapshot", err)
	}
	var c event.Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return event.Config{}, false, wrap("rut seal snapshot", err)
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	if _, hasKey := fields["rut_key"]; c.RUTSealKey == sealKey && !hasKey {
		return event.Config{}, false, nil // another replica did it
	}
	c.Version++
	c.RUTSealKey, c.RUTKey, c.PublishedAt = sealKey, "", s.now().UTC()
	if err := c.Validate(); err != nil {
		return event.Config{}, false, fmt.Errorf("hq: rut seal republish %s: %w", branch, err)
	}
	snap, err := json.Marshal(c)
	if err != nil {
		return event.Config{}, false, wrap("rut seal marshal", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by) VALUES ($1, $2, $3, $4, $5)`,
		branch, c.Version, snap, c.PublishedAt, RUTSealActor); err != nil {
		return event.Config{}, false, wrap("rut seal insert", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_audit (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, '')`,
		c.PublishedAt, RUTSealActor, AuditConfigPublish, "branch:"+branch,
		fmt.Sprintf("version %d: same configuration, with the cloud's RUT sealing key", c.Version)); err != nil {
		return event.Config{}, false, wrap("rut seal audit", err)
	}
	return c, true, wrap("rut seal commit", tx.Commit(ctx))
}

// rutFieldRE finds a RUT pseudonym or sealed RUT in raw JSON, its value
// possibly cut short by the preview.
var rutFieldRE = regexp.MustCompile(`(?i)("rut_(?:hash|sealed)"\s*:\s*)"[^"]*"?`)

// maskRUTFields hides RUT pseudonyms and sealed RUTs in a quarantined event's
// preview: a RUT hash is personal data (docs/privacy.md), and the HQ branch
// page is no audited personal-data view.
func maskRUTFields(raw []byte) []byte {
	return rutFieldRE.ReplaceAll(raw, []byte(`$1"***"`))
}
