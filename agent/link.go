package agent

import "time"

// Link is the branch's connection to the cloud as the LAN API reports it
// (GET /api/v1/sync). The sync relay implements it; nil means standalone.
type Link interface {
	State() LinkState
}

// LinkState is a snapshot of the link: Mode is "standalone" or "mqtt".
type LinkState struct {
	Mode      string
	Connected bool
	LastAckAt time.Time
	// Since is when Connected last changed (zero: not since the agent
	// started): the branch page says "sin conexión desde las 10:42".
	Since time.Time
	// Resends counts the relay's resends since the agent started, by reason:
	// "ack_timeout" (one batch, a probe), "gap" (a rewind to the last ack: the
	// cloud reported a gap) and "idle" (a rewind to the last ack: nothing in
	// flight, yet events unacknowledged). Nil when the link does not count.
	Resends map[string]uint64
}
