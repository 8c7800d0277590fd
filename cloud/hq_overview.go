package cloud

import (
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// Tile is one branch in the live national overview.
type Tile struct {
	Branch string `json:"branch"`
	Name   string `json:"name"`
	Region string `json:"region"`
	// Waiting counts today's waiting tickets; LongestWaitS is the oldest
	// one's wait and OldestQueuedAt its arrival (nil when nobody waits).
	Waiting        int        `json:"waiting"`
	LongestWaitS   int        `json:"longest_wait_s"`
	OldestQueuedAt *time.Time `json:"oldest_queued_at"`
	// OverTargetS is the worst (wait - target) among waiting tickets; > 0
	// means someone waits beyond his service's target.
	OverTargetS int `json:"over_target_s"`
	// Called counts today's tickets called in their current queue. Decided
	// counts those whose service level is known (queue.WaitRule): called, or
	// waiting (or gone uncalled) past target; WithinTarget those called within
	// target; WaitingOver those still waiting past target.
	// SLA % = WithinTarget / Decided.
	Called       int `json:"called"`
	Decided      int `json:"decided"`
	WithinTarget int `json:"within_target"`
	WaitingOver  int `json:"waiting_over"`
	// LastCalledAt is today's latest call (branch clock), nil before any.
	LastCalledAt *time.Time `json:"last_called_at"`
	Issued       int        `json:"issued"`
	Serving      int        `json:"serving"`
	Paused       int        `json:"paused"`
	// Sync state from the ingest.
	Known        bool       `json:"known"` // the branch has a branch_sync row
	Online       bool       `json:"online"`
	AppliedSeq   int64      `json:"applied_seq"`
	MaxSeq       int64      `json:"max_seq"`
	Backlog      int64      `json:"backlog"`
	LastEventAt  *time.Time `json:"last_event_at"`
	LastIngestAt *time.Time `json:"last_ingest_at"`
	StatusAt     *time.Time `json:"status_at"`
	// StatusReceivedAt is when the cloud last received a live online status;
	// OfflineAt when the agent went offline (nil while online), both by the
	// cloud's clock (see postgres.EventStore.RecordStatusAt).
	StatusReceivedAt *time.Time `json:"status_received_at"`
	OfflineAt        *time.Time `json:"offline_at"`
	// ClockSkewMS is the agent's clock minus the cloud's, from its last live
	// status (nil when unknown).
	ClockSkewMS *int64 `json:"clock_skew_ms"`
	// OfflineFrom is since when the branch is offline as HQ judges it (nil
	// while online): OfflineSince at the store's clock and SilentAfter.
	OfflineFrom   *time.Time `json:"offline_from"`
	ConfigVersion int64      `json:"config_version"`
	// PublishedVersion is the newest config HQ published for the branch.
	PublishedVersion int64 `json:"published_version"`
	// Queues are the services with people waiting now, by code, with the
	// names HQ configured for them.
	Queues []ServiceWaiting `json:"queues"`
}

// ServiceWaiting is how many wait in one service of a branch.
type ServiceWaiting struct {
	Service string `json:"service"`
	Name    string `json:"name"`
	Waiting int    `json:"waiting"`
}

// SLA returns the percentage of today's decided tickets called within target
// (one decimal, as the branch page rounds it), or -1 when none is decided yet.
func (t Tile) SLA() float64 {
	if t.Decided == 0 {
		return -1
	}
	return queue.Percent(t.WithinTarget, t.Decided)
}

// OfflineSince returns since when the branch is offline, by the cloud's
// clock, or nil when it is online. An agent that says it is online but has
// given no sign of life (a live status or events) for silentAfter went
// offline at its last sign of life: its last will was lost.
func (t Tile) OfflineSince(now time.Time, silentAfter time.Duration) *time.Time {
	if !t.Known {
		return nil
	}
	if !t.Online {
		for _, at := range []*time.Time{t.OfflineAt, t.StatusAt, t.LastIngestAt} {
			if at != nil {
				return at
			}
		}
		return &now
	}
	last := latest(t.StatusReceivedAt, t.LastIngestAt)
	if last == nil || silentAfter <= 0 || now.Sub(*last) < silentAfter {
		return nil
	}
	return last
}

func latest(ts ...*time.Time) *time.Time {
	var out *time.Time
	for _, t := range ts {
		if t != nil && (out == nil || t.After(*out)) {
			out = t
		}
	}
	return out
}

// BranchNow is the branch's clock at the cloud's now: business times in
// events (queued, called) compare with it, not with the cloud's clock.
func (t Tile) BranchNow(now time.Time) time.Time {
	if t.ClockSkewMS == nil {
		return now
	}
	return now.Add(time.Duration(*t.ClockSkewMS) * time.Millisecond)
}

// StalledFor is how long people have been waiting with nobody called at the
// branch: since today's last call or the oldest waiting arrival, whichever
// is later, at the branch's clock (0 when nobody waits).
func (t Tile) StalledFor(now time.Time) time.Duration {
	if t.Waiting == 0 || t.OldestQueuedAt == nil {
		return 0
	}
	since := *latest(t.OldestQueuedAt, t.LastCalledAt)
	return max(t.BranchNow(now).Sub(since), 0)
}

// LagS is how far the cloud's copy trails the branch: the seconds between the
// newest applied event's branch time and its ingest (0 when unknown).
func (t Tile) LagS() int {
	if t.LastEventAt == nil || t.LastIngestAt == nil || t.LastIngestAt.Before(*t.LastEventAt) {
		return 0
	}
	return int(t.LastIngestAt.Sub(*t.LastEventAt).Seconds())
}

// Gap is how many events the cloud has seen beyond a missing one.
func (t Tile) Gap() int64 { return t.MaxSeq - t.AppliedSeq }

// OverviewFilter narrows and orders the overview.
type OverviewFilter struct {
	Region   string
	Branches []string // only these (used by the live push); empty means all
	Sort     string   // "name" (default), "waiting", "wait", "sla"
}
