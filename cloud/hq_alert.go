package cloud

import (
	"fmt"
	"strconv"
	"time"
)

// Alert kinds. They are stored: never rename one. Each kind has a message
// hq.alert.<kind> (and telegram.alert.<kind>) whose value argument is a
// string, FormatAlertValue's; a kind whose value is a duration in seconds
// is listed in durationKinds.
const (
	AlertQueueLong = "queue_long"      // more than QueueOver waiting
	AlertWaitOver  = "wait_over"       // someone waits beyond target
	AlertOffline   = "agent_offline"   // agent offline for OfflineAfter
	AlertBacklogUp = "backlog_growing" // backlog larger than a non-empty sample at least BacklogWindow old
	// AlertSeqConflict: the ingest refused the branch's batches in the last
	// ten minutes because its seqs collide with stored events (a box wiped or
	// replaced without `ticketero-agent restore --resume`): its events wait.
	AlertSeqConflict = "seq_conflict"
	// AlertStalled: people wait and nobody was called at the branch for
	// StalledAfter while the branch is online (HQ knows its calls).
	AlertStalled = "branch_stalled"
	// AlertQuarantine: events of the branch were quarantined in the last
	// QuarantineWindow ("eventos en cuarentena"): the ingest refused them on
	// their own (bad text, seq or shape) and went on past them.
	AlertQuarantine = "events_quarantined"
	// AlertPINGuessing: someone at the branch entered wrong PINs until a
	// sign-in wait began (executive.locked, in HQ's audit) in the last
	// PINGuessWindow.
	AlertPINGuessing = "pin_guessing"
)

// PINGuessWindow is how long a sign-in wait keeps its branch's alert open.
const PINGuessWindow = time.Hour

// QuarantineWindow is how long quarantined events keep their branch's alert open.
const QuarantineWindow = 24 * time.Hour

// durationKinds are the kinds whose value is a duration in seconds.
var durationKinds = map[string]bool{AlertWaitOver: true, AlertOffline: true, AlertStalled: true}

// FormatAlertValue renders an alert's value for people: a duration as m:ss or
// h:mm:ss, a count as a number.
func FormatAlertValue(kind string, v int64) string {
	if durationKinds[kind] {
		return FormatDuration(v)
	}
	return strconv.FormatInt(v, 10)
}

// FormatDuration renders seconds as m:ss, or h:mm:ss from an hour.
func FormatDuration(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	if n >= 3600 {
		return fmt.Sprintf("%s%d:%02d:%02d", sign, n/3600, n/60%60, n%60)
	}
	return fmt.Sprintf("%s%d:%02d", sign, n/60, n%60)
}

// AlertRules are the thresholds of the alerts.
type AlertRules struct {
	QueueOver     int
	OfflineAfter  time.Duration
	BacklogWindow time.Duration
	// StalledAfter: people waiting and nobody called for this long. Zero
	// disables the alert.
	StalledAfter time.Duration
	// LowScore: a customer satisfaction answer at or below it (1–5) raises
	// AlertLowScore at the branch for LowScoreWindow. Zero disables it.
	LowScore int
}

// DefaultAlertRules are the thresholds: 15 waiting, 5 minutes offline
// (Tile.OfflineFrom), a backlog growing over a minute, nobody called for 5
// minutes.
func DefaultAlertRules() AlertRules {
	return AlertRules{QueueOver: 15, OfflineAfter: 5 * time.Minute, BacklogWindow: time.Minute,
		StalledAfter: 5 * time.Minute, LowScore: 2}
}

// HQAlert is an open (or recently cleared) alert of the HQ web (Alert is the
// Telegram digest's view of one).
type HQAlert struct {
	ID       int64      `json:"id"`
	Branch   string     `json:"branch"`
	Kind     string     `json:"kind"`
	Value    int64      `json:"value"`
	RaisedAt time.Time  `json:"raised_at"`
	AckedAt  *time.Time `json:"acked_at"`
	AckedBy  string     `json:"acked_by"`
}

// Shown is the alert's value for people (FormatAlertValue).
func (a HQAlert) Shown() string { return FormatAlertValue(a.Kind, a.Value) }

// AlertsChanged is the payload on cloud.ChangesChannel (never a branch ID) when alerts
// were raised or cleared: live pages re-read their alert list.
const AlertsChanged = "!alerts"

// AlertLowScore: customers gave low satisfaction scores (at most
// AlertRules.LowScore) at the branch in the last LowScoreWindow.
const AlertLowScore = "feedback_low"

// LowScoreWindow is how long a low score keeps its branch's alert open.
const LowScoreWindow = time.Hour
