package cloud

import (
	"context"
	"time"

	"github.com/ticketero/ticketero/shared/release"
)

// DeadJob is a dead-lettered customer notification, for the dashboard (no
// personal data).
type DeadJob struct {
	ID        int64     `json:"id"`
	Branch    string    `json:"branch"`
	Ticket    string    `json:"ticket"`
	Kind      string    `json:"kind"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
}

// BoxState is one box's agent version and its last update step.
type BoxState struct {
	Branch  string `json:"branch"`
	Region  string `json:"region"`
	Online  bool   `json:"online"`
	Running string `json:"running"`
	Offered string `json:"offered,omitempty"`
	// Stopped is the version whose rollout was stopped while the box held
	// its offer: the offer is withdrawn (or about to be), the box does not
	// start it; one already installing finishes or rolls back as usual.
	Stopped string `json:"stopped,omitempty"`
	// Last is the box's last agent.update report (zero when none).
	Last   release.Report `json:"last"`
	LastAt *time.Time     `json:"last_at,omitempty"`
}

// DeadLetters lists the newest dead-lettered notifications of the given
// branches (all when branches is nil), at most limit.
type DeadLetters func(ctx context.Context, branches []string, limit int) ([]DeadJob, error)

// BoxLister lists every branch's box: its running version, the offer it holds
// and its last update step.
type BoxLister func(ctx context.Context) ([]BoxState, error)
