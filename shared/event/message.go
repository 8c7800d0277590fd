package event

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// Ack is the cloud's receipt on the ack topic: every event of Branch up to and
// including Seq is stored. Only this releases the agent's outbox.
type Ack struct {
	V      int    `json:"v"`
	Branch string `json:"branch"`
	Seq    uint64 `json:"seq"`
	// Gap, when set, is the first missing seq the cloud waits for: the agent
	// resends from Seq+1.
	Gap uint64 `json:"gap,omitempty"`
}

// Status is the agent's retained status (and, with Online false, its last will).
type Status struct {
	V             int       `json:"v"`
	Branch        string    `json:"branch"`
	Online        bool      `json:"online"`
	Backlog       int64     `json:"backlog"`
	LastSeq       uint64    `json:"last_seq"`
	LastAck       uint64    `json:"last_ack"`
	ConfigVersion int64     `json:"config_version"`
	AgentVersion  string    `json:"agent_version"`
	At            time.Time `json:"at"`
	// Since is when the agent's broker session began. The last will is fixed
	// at connect time, so statuses order by (Since, offline after online, At).
	Since time.Time `json:"since,omitempty"`
	// Targets are the target waits (seconds) of the services the branch runs,
	// by service code, so HQ measures its service level against the same
	// targets as the branch (absent from agents before it was added).
	Targets map[string]int `json:"targets,omitempty"`
}

// Rules are a branch's calling rules.
type Rules struct {
	// PreferentialRatio is how many preferential (or premium) tickets are called
	// before a waiting normal one must be called: 2 means 2:1. Zero means strict
	// priority.
	PreferentialRatio int `json:"preferential_ratio"`
	// RecallLimit is how many times a ticket may be recalled.
	RecallLimit int `json:"recall_limit"`
	// PreNoticeAhead is how many ahead trigger the come-back Telegram notice.
	PreNoticeAhead int `json:"pre_notice_ahead"`
	// PreNoticeByService overrides PreNoticeAhead for some services (code →
	// people ahead); absent in snapshots before it was added.
	PreNoticeByService map[string]int `json:"pre_notice_by_service,omitempty"`
	// Appointments are the rules of appointments and remote tickets
	// (additive; zero: defaults, remote joining closed).
	Appointments AppointmentRules `json:"appointments,omitzero"`
}

// DefaultRules are the rules a branch runs before HQ sends any.
func DefaultRules() Rules {
	return Rules{PreferentialRatio: 2, RecallLimit: 3, PreNoticeAhead: 3}
}

// ConfigExecutive is an executive in a config snapshot. PINs are set at the
// branch: HQ sends no PIN hash (a short PIN's hash in a retained message is
// reversed offline). PINHash stays so older snapshots decode; an agent takes
// it only for an executive who has no PIN at the branch yet.
type ConfigExecutive struct {
	queue.Executive
	PINHash string `json:"pin_hash,omitempty"`
}

// Config is the retained snapshot on the config topic. A branch applies only a
// Version greater than the one it runs.
type Config struct {
	V          int               `json:"v"`
	Branch     string            `json:"branch"`
	Version    int64             `json:"version"`
	TimeZone   string            `json:"time_zone"`
	Services   []queue.Service   `json:"services"`
	Counters   []queue.Counter   `json:"counters"`
	Executives []ConfigExecutive `json:"executives"`
	Rules      Rules             `json:"rules"`
	// OpeningHours are the branch's opening hours in its time zone, one or
	// more ranges "09:00-14:00,15:00-17:30" (empty: not configured).
	OpeningHours string `json:"opening_hours,omitempty"`
	// Hours adds hours per weekday, holidays, the close grace and per-service
	// last-ticket cut-offs (flattened: weekly_hours, holidays, close_grace_min,
	// last_ticket).
	Hours
	// BranchName and Region are how HQ names the branch, shown on the kiosk,
	// the printed ticket and the TV (empty: the agent shows its branch ID).
	BranchName string `json:"branch_name,omitempty"`
	Region     string `json:"region,omitempty"`
	// RUTKey was the network-wide key of RUT hashes (base64), sent to every
	// box. No longer sent: whoever holds it reverses any RUT hash in seconds.
	// An agent that receives it (an old cloud) stores nothing of it.
	RUTKey string `json:"rut_key,omitempty"`
	// RUTSealKey is the cloud's X25519 public key (base64 of 32 bytes): the
	// agent seals a customer's RUT to it on ticket.issued (Issued.RUTSealed) and
	// only the cloud computes the keyed hash. Empty: the agent sends no RUT
	// pseudonym.
	RUTSealKey  string    `json:"rut_seal_key,omitempty"`
	PublishedAt time.Time `json:"published_at"`
	// PublishedBy is the HQ user who published it (additive), named as the
	// actor of the branch's config.applied.
	PublishedBy string `json:"published_by,omitempty"`
	// Outcomes are the visit outcome codes HQ configured (additive; empty:
	// the terminal offers none and accepts any well-formed code).
	Outcomes []queue.Outcome `json:"outcomes,omitempty"`
}

// Validate checks a snapshot before it is applied.
func (c Config) Validate() error {
	if c.V != Version {
		return reject(RejectVersion, "config version %d", c.V)
	}
	if c.Version <= 0 {
		return reject(RejectEvent, "config version number %d", c.Version)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return reject(RejectEvent, "time zone %q", c.TimeZone)
	}
	if c.OpeningHours != "" && !ValidOpeningHours(c.OpeningHours) {
		return reject(RejectEvent, "opening hours %q", c.OpeningHours)
	}
	seen := map[string]bool{}
	for _, s := range c.Services {
		if err := s.Validate(); err != nil {
			return reject(RejectEvent, "service: %v", err)
		}
		if seen[s.Code] {
			return reject(RejectEvent, "service %s twice", s.Code)
		}
		seen[s.Code] = true
	}
	if err := c.Hours.Validate(seen); err != nil {
		return reject(RejectEvent, "%v", err)
	}
	for code, n := range c.Rules.PreNoticeByService {
		if !seen[code] || n < 0 {
			return reject(RejectEvent, "pre-notice of service %s: %d", code, n)
		}
	}
	if k, err := base64.StdEncoding.DecodeString(c.RUTSealKey); c.RUTSealKey != "" && (err != nil || len(k) != 32) {
		return reject(RejectEvent, "rut_seal_key must be base64 of 32 bytes")
	}
	if !queue.ValidText(c.BranchName, queue.MaxText) || !queue.ValidText(c.Region, queue.MaxText) {
		return reject(RejectEvent, "branch name or region is not valid text")
	}
	for _, k := range c.Counters {
		if !queue.ValidText(k.Name, queue.MaxText) {
			return reject(RejectEvent, "counter %d name is not valid text", k.Number)
		}
	}
	for _, e := range c.Executives {
		if !queue.ValidText(e.Name, queue.MaxText) {
			return reject(RejectEvent, "executive %s name is not valid text", e.ID)
		}
		for _, s := range e.Services {
			if !seen[s] {
				return reject(RejectEvent, "executive %s serves unknown service %s", e.ID, s)
			}
		}
	}
	outcomes := map[string]bool{}
	for _, o := range c.Outcomes {
		if err := o.Validate(); err != nil || outcomes[o.Code] {
			return reject(RejectEvent, "outcome %q invalid or twice", o.Code)
		}
		outcomes[o.Code] = true
	}
	return nil
}

var hoursRE = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d(,([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)*$`)

// ValidOpeningHours reports whether s is one or more "HH:MM-HH:MM" ranges
// separated by commas, each opening before it closes.
func ValidOpeningHours(s string) bool {
	if !hoursRE.MatchString(s) {
		return false
	}
	for _, r := range strings.Split(s, ",") {
		from, to, _ := strings.Cut(r, "-")
		if from >= to {
			return false
		}
	}
	return true
}

// Command kinds the cloud sends to a branch.
const (
	// CommandCancelTicket asks the branch to cancel a ticket (the customer's
	// /cancelar on Telegram). Applied once per command ID.
	CommandCancelTicket = "ticket.cancel"
	// CommandLocateTicket asks the branch where a waiting ticket stands now (a
	// customer linked his chat after its last relayed figure); the branch
	// answers with ticket.placed. Applied once per command ID.
	CommandLocateTicket = "ticket.locate"
)

// KindCommands is the topic kind of cloud → agent commands (QoS 1, not retained).
const KindCommands = "commands"

// CommandsTopic is where the cloud sends commands to a branch.
func CommandsTopic(branch string) string { return topicPrefix + branch + "/" + KindCommands }

// Command is a request from the cloud that the branch applies exactly once (by
// ID) and answers with the resulting event.
type Command struct {
	V      int       `json:"v"`
	Branch string    `json:"branch"`
	ID     string    `json:"id"`
	Type   string    `json:"type"`
	Ticket string    `json:"ticket"`
	At     time.Time `json:"at"`
	// Scores are the executives' customer scores (CommandExecutiveScores).
	Scores []ExecutiveScore `json:"scores,omitempty"`
	// Appointment is the booking of appointment.book and appointment.cancel
	// (additive).
	Appointment *AppointmentOrder `json:"appointment,omitempty"`
	// Join is the order of ticket.join (additive).
	Join *JoinOrder `json:"join,omitempty"`
}

// DecodeMessage parses a non-batch message (Ack, Status, Config, Command) from
// topic into v and checks its version and that its branch matches the topic.
func DecodeMessage(topic string, payload []byte, v interface{ branchAndVersion() (string, int) }) error {
	if len(payload) > MaxMessageBytes {
		return reject(RejectTooLarge, "%d bytes", len(payload))
	}
	branch, _, ok := ParseTopic(topic)
	if !ok {
		return reject(RejectTopic, "unknown topic %q", topic)
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return reject(RejectMalformed, "%v", err)
	}
	b, ver := v.branchAndVersion()
	if ver != Version {
		return reject(RejectVersion, "version %d", ver)
	}
	if b != branch {
		return reject(RejectBranchMismatch, "branch %q on topic of %q", b, branch)
	}
	return nil
}

func (a *Ack) branchAndVersion() (string, int)     { return a.Branch, a.V }
func (s *Status) branchAndVersion() (string, int)  { return s.Branch, s.V }
func (c *Config) branchAndVersion() (string, int)  { return c.Branch, c.V }
func (c *Command) branchAndVersion() (string, int) { return c.Branch, c.V }
