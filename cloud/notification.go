package cloud

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// TextArg is one argument of a Text: a literal S, or a catalogue Key
// rendered with its own Args in the reader's language.
type TextArg struct {
	S    string   `json:"s,omitempty"`
	Key  string   `json:"k,omitempty"`
	Args []string `json:"a,omitempty"`
}

// Lit is a literal argument.
func Lit(s string) TextArg { return TextArg{S: s} }

// Text is what a notification says: a catalogue key and its arguments,
// stored as JSON with the job and rendered at send time in the chat's
// language.
type Text struct {
	Key  string    `json:"key"`
	Args []TextArg `json:"args,omitempty"`
	// Survey, when set, puts the survey's answer buttons under the message
	// (Telegram inline keyboard).
	Survey *SurveyStep `json:"survey,omitempty"`
	// Buttons, when set, are inline keyboard rows under the message (the
	// bot's /agendar, /mis_horas and /fila choices).
	Buttons [][]Button `json:"buttons,omitempty"`
	// Ref, when set, names what the customer's next plain message answers
	// (the bot asked for his RUT to book, move or cancel): the chat's latest
	// reply with a Ref, within a few minutes, is pending (ChatUpdate.PendingRef).
	Ref string `json:"ref,omitempty"`
}

// Button is one inline keyboard button: its label is the catalogue Key
// rendered in the chat's language followed by Text (either may be empty);
// Data comes back when it is tapped (at most 64 bytes).
type Button struct {
	Text string `json:"t,omitempty"`
	Key  string `json:"k,omitempty"`
	Data string `json:"d"`
}

// Survey steps (the question a message's buttons answer).
const (
	StepCSAT = "csat" // satisfaction 1–5
	StepNPS  = "nps"  // would recommend 0–10
)

// SurveyStep names the survey and the question of a message's buttons.
type SurveyStep struct {
	ID   int64  `json:"id"`
	Step string `json:"step"`
}

// Survey answer outcomes.
var (
	ErrSurveyExpired  = errors.New("notify: survey expired")
	ErrSurveyAnswered = errors.New("notify: survey question already answered")
	ErrSurveyNotFound = errors.New("notify: no such survey for this chat")
)

// Render formats t in lang.
func (t Text) Render(lang i18n.Lang) string {
	args := make([]any, len(t.Args))
	for i, a := range t.Args {
		if a.Key != "" {
			sub := make([]any, len(a.Args))
			for j, s := range a.Args {
				sub[j] = s
			}
			args[i] = i18n.T(lang, a.Key, sub...)
		} else {
			args[i] = a.S
		}
	}
	return i18n.T(lang, t.Key, args...)
}

// WaitArg renders an estimate range in minutes (rounded up).
func WaitArg(typicalS, upperS int) TextArg {
	lo, hi := (typicalS+59)/60, (upperS+59)/60
	if hi < lo {
		hi = lo
	}
	if hi <= 0 {
		return TextArg{Key: "telegram.wait_now"}
	}
	return TextArg{Key: "telegram.wait_range", Args: []string{strconv.Itoa(lo), strconv.Itoa(hi)}}
}

// ChatTicket is a ticket linked to a chat, as the chat sees it now. Position
// and the estimate are the branch's last relayed figures (at issue, transfer,
// requeue or pre-notice), taken at PlaceAt (branch time); the cloud never
// re-derives them.
type ChatTicket struct {
	Branch   string
	ID       string
	Display  string
	Status   queue.Status
	Position int // 1-based, as the branch last said
	TypicalS int
	UpperS   int
	PlaceAt  time.Time
	TimeZone string
	RUTHash  string
	// Overtaken says another ticket of the same service was issued or placed
	// (transferred in, requeued) after PlaceAt: the branch may rank it ahead
	// (a preferential arrival, a transfer), so the figure is no longer told as
	// current however recent (the cloud does not judge the order; the branch
	// is asked).
	Overtaken bool
}

// Open reports whether the ticket is still in play.
func (t ChatTicket) Open() bool { return t.Status.Open() }

// Ahead is the people ahead as the branch last said.
func (t ChatTicket) Ahead() int { return max(0, t.Position-1) }

// FreshFor is how long a relayed figure is told as current; an older one, or
// one the branch has issued or placed other tickets since (Overtaken), is
// told with its time ("a las 16:05").
const FreshFor = 2 * time.Minute

// Current reports whether the branch's figure is still told as current: at
// most FreshFor old and no ticket issued or placed after it.
func (t ChatTicket) Current(now time.Time) bool {
	return now.Sub(t.PlaceAt) <= FreshFor && !t.Overtaken
}

// PlaceMsg tells the ticket's place: key for a fresh figure (args: number,
// people ahead, wait), keyAt for an older one (args: number, time, people
// ahead, wait), with prefix args (e.g. the status) after the number.
func (t ChatTicket) PlaceMsg(now time.Time, key, keyAt string, prefix ...TextArg) Text {
	args := append([]TextArg{Lit(t.Display)}, prefix...)
	wait := WaitArg(t.TypicalS, t.UpperS)
	if t.Current(now) {
		return Text{Key: key, Args: append(args, Lit(strconv.Itoa(t.Ahead())), wait)}
	}
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return Text{Key: keyAt, Args: append(args, Lit(t.PlaceAt.In(loc).Format("15:04")), Lit(strconv.Itoa(t.Ahead())), wait)}
}

// ErrNoTicket is returned when a chat has no linked ticket.
var ErrNoTicket = queue.Errorf(queue.CodeNotFound, "telegram.no_ticket")

// NotificationJob is a claimed notification: what to say, to which (sealed)
// chat.
type NotificationJob struct {
	ID     int64
	Branch string
	Ticket string
	Kind   string
	// Channel is ChannelTelegram or ChannelSMS; for SMS, ChatEnc is the
	// sealed number.
	Channel  string
	Msg      Text
	Attempts int
	ChatID   int64
	ChatEnc  []byte
	ChatKind string
	Lang     string
	// CreatedAt is when the job was written (its event's commit).
	CreatedAt time.Time
}

// Channels of a job. They are stored: never rename one.
const (
	ChannelTelegram = "telegram"
	ChannelSMS      = "sms"
)

// SendError classifies a failed send for the worker: RateLimited (retry
// after RetryAfter, not counted against the job's retries) or Permanent
// (dead-letter now); otherwise the send is retried on the job's schedule.
type SendError struct {
	Err         error
	RateLimited bool
	RetryAfter  time.Duration
	Permanent   bool
}

func (e *SendError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// PhoneKeys open a number a branch sealed to the cloud's public key
// (ticket.issued phone_sealed) and seal it at rest under the data key.
type PhoneKeys interface {
	// OpenBranchSealed opens phone_sealed (the cloud's X25519 key).
	OpenBranchSealed(sealed string) (string, error)
	// SealPhone encrypts a number at rest (AES-GCM under the data key).
	SealPhone(phone string) ([]byte, error)
	// OpenPhone decrypts SealPhone's output.
	OpenPhone(sealed []byte) (string, error)
}

// Pacing is the minimum gap between two messages to one chat, enforced in the
// database so it holds across replicas.
type Pacing struct {
	Private time.Duration // Telegram: about 1 message/s per chat
	Group   time.Duration // Telegram: 20 messages/min per group → 3 s
	Lease   time.Duration // how long a claimed job may stay "sending"
}

// NotificationRetention bounds how long personal data of notifications and
// its traces are kept (Ley 19.628 / 21.719: only as long as needed).
type NotificationRetention struct {
	// Links is how long a chat stays linked to a ticket or a scanned token:
	// a ticket lives one business day (2 days).
	Links time.Duration
	// Data is how long sent, dropped and dead jobs, handled commands and
	// chats with no remaining link or consent are kept (30 days).
	Data time.Duration
	// Updates is how long update IDs are remembered for de-duplication;
	// Telegram redelivers for at most 24 hours (7 days).
	Updates time.Duration
}

// DefaultNotificationRetention is 2 days of links, 30 days of history, 7
// days of update IDs.
var DefaultNotificationRetention = NotificationRetention{Links: 48 * time.Hour, Data: 30 * 24 * time.Hour, Updates: 7 * 24 * time.Hour}

// Alert is a supervisor alert raised by HQ's rules, as a digest lists it.
type Alert struct {
	ID     int64
	Branch string
	Kind   string
	Value  int64
	// Shown is Value as HQ shows it for its kind (a count, or m:ss).
	Shown    string
	RaisedAt time.Time
}

// ChatUpdate is what a chat's update may do, all in the one transaction
// that records the update's ID (so a redelivered update changes nothing).
// Methods return queue errors: ErrNoTicket (not_found) when the chat has no
// ticket; anything else is internal.
type ChatUpdate interface {
	// UpsertChat stores the chat (sealed, found by its keyed hash) and
	// returns its row ID.
	UpsertChat(ctx context.Context, hash string, sealed []byte, kind, lang string) (int64, error)
	// Reply queues an answer to the update as a job.
	Reply(ctx context.Context, chatID, updateID int64, m Text) error
	// LinkToken links the chat to the ticket of a scanned token (newID names
	// the ticket.locate command it may return); ErrNoTicket while the ticket
	// has not arrived (the link waits).
	LinkToken(ctx context.Context, chatID int64, token, newID string) (ChatTicket, *event.Command, error)
	// ChatTicket is the chat's current ticket; ErrNoTicket if none.
	ChatTicket(ctx context.Context, chatID int64) (ChatTicket, error)
	// LocateIfOld asks the branch where t stands when its figure is old.
	LocateIfOld(ctx context.Context, t ChatTicket, newID string) (*event.Command, error)
	// RequestCancel records a cancel command for the chat's ticket; false
	// when the ticket is no longer open. ErrNoTicket if none.
	RequestCancel(ctx context.Context, chatID int64, newID string) (ChatTicket, event.Command, bool, error)
	// Remember consents to linking the customer's later tickets by RUT;
	// false when the ticket carried none. ErrNoTicket if none.
	Remember(ctx context.Context, chatID int64) (bool, error)
	// Unlink forgets the chat's links and consent.
	Unlink(ctx context.Context, chatID int64) error
	// AnswerSurvey records the chat's answer v to step of survey id and
	// returns its branch: ErrSurveyExpired, ErrSurveyAnswered or
	// ErrSurveyNotFound when it cannot count.
	AnswerSurvey(ctx context.Context, chatID, id int64, step string, v int) (string, error)
	// SurveyComment stores text as the comment of the chat's survey waiting
	// for one; false when none waits.
	SurveyComment(ctx context.Context, chatID int64, text string) (bool, error)
	// PendingRef is the Ref of the chat's latest reply written within the
	// last within, "" when that reply has none (the question was answered
	// or superseded) or there is none.
	PendingRef(ctx context.Context, chatID int64, within time.Duration) (string, error)
	// FollowBooking makes the chat follow the booking whose follow token is
	// token (the page's t.me link; cloud.Booking.Token) while it is still to
	// come: its reminders and notices go to the chat and /mis_horas lists
	// it. false when no such booking.
	FollowBooking(ctx context.Context, chatID int64, token string) (Booking, bool, error)
	// ChatBookings are the bookings the chat follows that are still to come
	// (booked or received, ending after now), earliest first.
	ChatBookings(ctx context.Context, chatID int64, now time.Time) ([]Booking, error)
}
