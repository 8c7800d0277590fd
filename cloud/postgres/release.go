package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// Releases stores agent releases, their rollouts, the offer each branch
// holds, and reads each box's update state from its agent.update events.
type Releases struct{ Pool *pgxpool.Pool }

var _ cloud.ReleaseOffers = Releases{}

// Artifact is one platform's signed binary of a release (cloud.Artifact).
type Artifact = cloud.Artifact

// Rollout offers a version to a ring of branches (cloud.Rollout).
type Rollout = cloud.Rollout

// Due is an offer to (re)publish (cloud.Due).
type Due = cloud.Due

// Canary is branch's stable bucket (0–99) for version (cloud.Canary).
func Canary(branch, version string) int { return cloud.Canary(branch, version) }

// AddArtifact records a signed artifact (already verified by the caller and
// uploaded to S3). Publishing the same platform of a version twice is refused.
func (r Releases) AddArtifact(ctx context.Context, a Artifact) error {
	tag, err := r.Pool.Exec(ctx, `INSERT INTO agent_releases (version, os, arch, manifest, signature, s3_key)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, a.Version, a.OS, a.Arch, a.Manifest, a.Signature, a.S3Key)
	if err != nil {
		return fmt.Errorf("postgres: release: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release %s %s/%s is already published (publish a new version instead)", a.Version, a.OS, a.Arch)
	}
	return nil
}

// Artifacts lists a version's artifacts.
func (r Releases) Artifacts(ctx context.Context, version string) ([]Artifact, error) {
	rows, err := r.Pool.Query(ctx, `SELECT version, os, arch, manifest, signature, s3_key FROM agent_releases
		WHERE version = $1 ORDER BY os, arch`, version)
	if err != nil {
		return nil, fmt.Errorf("postgres: releases: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Artifact, error) {
		var a Artifact
		err := row.Scan(&a.Version, &a.OS, &a.Arch, &a.Manifest, &a.Signature, &a.S3Key)
		return a, err
	})
}

// StartRollout records a rollout of a published version.
func (r Releases) StartRollout(ctx context.Context, o Rollout) (int64, error) {
	if err := o.Validate(); err != nil {
		return 0, err
	}
	var n int
	if err := r.Pool.QueryRow(ctx, `SELECT count(*) FROM agent_releases WHERE version = $1`, o.Version).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: rollout: %w", err)
	}
	if n == 0 {
		return 0, fmt.Errorf("rollout: version %s is not published", o.Version)
	}
	var id int64
	err := r.Pool.QueryRow(ctx, `INSERT INTO agent_rollouts (version, ring, percent, region, install_window, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, o.Version, o.Ring, max(o.Percent, 1), o.Region, o.Window, o.By).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("postgres: rollout: %w", err)
	}
	return id, nil
}

// StopRollouts stops every active rollout of version. The rollout loop then
// withdraws the offers branches hold of it that no other active rollout
// covers (DueOffers: Withdraw); boxes already installing it finish or roll
// back as usual.
func (r Releases) StopRollouts(ctx context.Context, version string) (int64, error) {
	tag, err := r.Pool.Exec(ctx, `UPDATE agent_rollouts SET stopped_at = now() WHERE version = $1 AND stopped_at IS NULL`, version)
	if err != nil {
		return 0, fmt.Errorf("postgres: rollout: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DueOffers returns, for each branch an active rollout covers (the latest
// rollout covering it wins), the offer to publish when the branch holds
// another version or its offer is older than refresh (its download URLs
// expire); and, for each branch holding an offer that no active rollout
// covers any more (stopped), its withdrawal.
func (r Releases) DueOffers(ctx context.Context, now time.Time, refresh time.Duration) ([]Due, error) {
	rows, err := r.Pool.Query(ctx, `SELECT id, version, ring, percent, region, install_window, created_by, created_at
		FROM agent_rollouts WHERE stopped_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: rollouts: %w", err)
	}
	outs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Rollout, error) {
		var o Rollout
		err := row.Scan(&o.ID, &o.Version, &o.Ring, &o.Percent, &o.Region, &o.Window, &o.By, &o.At)
		return o, err
	})
	if err != nil {
		return nil, err
	}
	// An offer row whose version is empty was withdrawn: the branch holds
	// nothing (rollout still says which offer it last held).
	type held struct {
		version string
		rollout int64
		at      time.Time
	}
	offers := map[string]held{}
	holding := false
	rows, err = r.Pool.Query(ctx, `SELECT branch, version, rollout, offered_at FROM agent_offers`)
	if err != nil {
		return nil, fmt.Errorf("postgres: offers: %w", err)
	}
	for rows.Next() {
		var b string
		var h held
		if err := rows.Scan(&b, &h.version, &h.rollout, &h.at); err != nil {
			rows.Close()
			return nil, err
		}
		offers[b] = h
		holding = holding || h.version != ""
	}
	rows.Close()
	if len(outs) == 0 && !holding {
		return nil, nil
	}
	rows, err = r.Pool.Query(ctx, `SELECT id, region FROM branches ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: branches: %w", err)
	}
	type branch struct{ id, region string }
	branches, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (branch, error) {
		var b branch
		err := row.Scan(&b.id, &b.region)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: branches: %w", err)
	}
	arts := map[string][]Artifact{}
	var due []Due
	for _, b := range branches {
		var pick *Rollout
		for i := range outs {
			if outs[i].Covers(b.id, b.region) {
				pick = &outs[i]
			}
		}
		if pick == nil {
			if h, ok := offers[b.id]; ok && h.version != "" {
				due = append(due, Due{Branch: b.id, Rollout: Rollout{ID: h.rollout, Version: h.version}, Withdraw: true})
			}
			continue
		}
		if h, ok := offers[b.id]; ok && h.version == pick.Version && now.Sub(h.at) < refresh {
			continue
		}
		a, ok := arts[pick.Version]
		if !ok {
			if a, err = r.Artifacts(ctx, pick.Version); err != nil {
				return nil, err
			}
			arts[pick.Version] = a
		}
		due = append(due, Due{Branch: b.id, Rollout: *pick, Artifacts: a})
	}
	return due, nil
}

// Offered records that branch now holds rollout's offer.
func (r Releases) Offered(ctx context.Context, branch string, o Rollout, at time.Time) error {
	_, err := r.Pool.Exec(ctx, `INSERT INTO agent_offers (branch, version, rollout, offered_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (branch) DO UPDATE SET version = excluded.version, rollout = excluded.rollout, offered_at = excluded.offered_at`,
		branch, o.Version, o.ID, at)
	if err != nil {
		return fmt.Errorf("postgres: offer: %w", err)
	}
	return nil
}

// Withdrawn records that branch's offer of rollout was taken back: the row
// stays, with an empty version, so HQ still sees which stopped rollout it
// held. An offer of another rollout recorded meanwhile is left alone.
func (r Releases) Withdrawn(ctx context.Context, branch string, rollout int64, at time.Time) error {
	_, err := r.Pool.Exec(ctx, `UPDATE agent_offers SET version = '', offered_at = $3 WHERE branch = $1 AND rollout = $2`,
		branch, rollout, at)
	if err != nil {
		return fmt.Errorf("postgres: offer withdrawn: %w", err)
	}
	return nil
}

// Boxes lists every branch's box: the version its status reports, the offer
// it holds (or the stopped version whose offer was withdrawn) and its last
// update step.
func (r Releases) Boxes(ctx context.Context) ([]cloud.BoxState, error) {
	rows, err := r.Pool.Query(ctx, `SELECT b.id, b.region, coalesce(s.online, false), coalesce(s.agent_version, ''),
			coalesce(o.version, ''), coalesce(CASE WHEN ro.stopped_at IS NOT NULL THEN ro.version END, ''), u.data, u.at
		FROM branches b
		LEFT JOIN branch_sync s ON s.branch = b.id
		LEFT JOIN agent_offers o ON o.branch = b.id
		LEFT JOIN agent_rollouts ro ON ro.id = o.rollout
		LEFT JOIN LATERAL (SELECT data, at FROM events e WHERE e.branch = b.id AND e.type = $1
			ORDER BY seq DESC LIMIT 1) u ON true
		ORDER BY b.id`, string(event.AgentUpdate))
	if err != nil {
		return nil, fmt.Errorf("postgres: boxes: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (cloud.BoxState, error) {
		var b cloud.BoxState
		var data []byte
		var at *time.Time
		if err := row.Scan(&b.Branch, &b.Region, &b.Online, &b.Running, &b.Offered, &b.Stopped, &data, &at); err != nil {
			return b, err
		}
		if data != nil {
			_ = json.Unmarshal(data, &b.Last)
			b.LastAt = at
		}
		return b, nil
	})
}
