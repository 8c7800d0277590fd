package cloud

import (
	"context"
	"errors"
	"time"
)

// Appointments and the virtual queue, the cloud's side (docs/appointments.md;
// wire contract in shared/event/appointment.go). The cloud owns the book
// (schedules, capacity, bookings); the branch owns the ticket each booking or
// remote join becomes. The PostgreSQL adapter implements Appointments; the
// public booking page, the Telegram bot and the HQ pages use it.

// BookingStatus is where a booking stands.
type BookingStatus string

// Booking statuses.
const (
	// BookingBooked: stored; the command is on its way to the branch.
	BookingBooked BookingStatus = "booked"
	// BookingReceived: the branch holds it (appointment.received).
	BookingReceived BookingStatus = "received"
	// BookingDeclined: the branch could not honour it (appointment.declined).
	BookingDeclined  BookingStatus = "declined"
	BookingCancelled BookingStatus = "cancelled"
	BookingCheckedIn BookingStatus = "checked_in"
	BookingMissed    BookingStatus = "missed"
)

// Booking is one appointment.
type Booking struct {
	ID      string        `json:"id"`
	Branch  string        `json:"branch"`
	Service string        `json:"service"`
	Start   time.Time     `json:"start"`
	End     time.Time     `json:"end"`
	Day     string        `json:"day"` // the branch's business day of Start
	Rev     int           `json:"rev"`
	Code    string        `json:"code"` // 6-digit check-in code, unique per branch and day
	Status  BookingStatus `json:"status"`
	// Reason is the decline code (event.Decline*) when Status is declined.
	Reason  string `json:"reason,omitempty"`
	Note    string `json:"note,omitempty"`
	Channel string `json:"channel"` // event.ChannelWeb or "telegram"
	// Ticket and Printed are the ticket issued at check-in; Late says he
	// checked in after the grace.
	Ticket    string    `json:"ticket,omitempty"`
	Printed   string    `json:"printed,omitempty"`
	Late      bool      `json:"late,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// Token is the opaque token of the booking's Telegram follow link
	// (t.me/<bot>?start=<token>), carried to the ticket at check-in.
	Token string `json:"-"`
}

// Slot is a bookable time at a branch for a service, with the places still
// free (capacity minus walk-in reserve minus bookings).
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Free  int       `json:"free"`
}

// BookRequest is what a customer asks for. RUT is normalised (queue.RUT);
// the store keeps only its keyed hash and sealed form, never the RUT in
// clear.
type BookRequest struct {
	Branch  string
	Service string
	Start   time.Time
	RUT     string
	Note    string
	Channel string
	// Chat, when non-zero, is the Telegram chat that follows the booking.
	Chat int64
}

// JoinStatus is where a remote join stands.
type JoinStatus string

// Remote join statuses.
const (
	JoinPending   JoinStatus = "pending"    // sent to the branch, no answer yet
	JoinIssued    JoinStatus = "issued"     // the branch gave a ticket; customer not there yet
	JoinRefused   JoinStatus = "refused"    // ticket.join_refused (Reason)
	JoinCheckedIn JoinStatus = "checked_in" // the customer is at the branch
	JoinExpired   JoinStatus = "expired"    // ticket.expired
	JoinClosed    JoinStatus = "closed"     // the ticket was called, served, cancelled...
)

// JoinUnreachable is the Reason of a refused join whose branch never answered
// its ticket.join in time (the cloud gives up after ten minutes); the other
// reasons are the branch's event.Refuse* codes.
const JoinUnreachable = "unreachable"

// RemoteJoin is a remote ticket request and what became of it. Position and
// the estimate are the branch's figures as relayed (never re-derived).
type RemoteJoin struct {
	ID      string     `json:"id"` // the ticket.join command ID
	Branch  string     `json:"branch"`
	Service string     `json:"service"`
	Code    string     `json:"code"`
	Channel string     `json:"channel"`
	Status  JoinStatus `json:"status"`
	Reason  string     `json:"reason,omitempty"`
	Ticket  string     `json:"ticket,omitempty"`
	Printed string     `json:"printed,omitempty"`
	// TicketStatus is the ticket's status as the tickets projection has it
	// (waiting, called, serving, done, ...; "" before the ticket is known):
	// "called" is the moment to tell the customer.
	TicketStatus string `json:"ticket_status,omitempty"`
	Position     int    `json:"position,omitempty"`
	TypicalS     int    `json:"quoted_typical_s,omitempty"`
	UpperS       int    `json:"quoted_upper_s,omitempty"`
	// HoldUntil is set while the unchecked ticket slid back (ticket.slid).
	HoldUntil time.Time `json:"hold_until,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// Token is the join's Telegram follow token (as Booking.Token).
	Token string `json:"-"`
}

// JoinRequest is a customer's remote join.
type JoinRequest struct {
	Branch   string
	Service  string
	Priority string
	RUT      string // optional, normalised: lets him check in by RUT at the kiosk
	Channel  string
	Chat     int64
}

// BookableBranch is a branch as the public page lists it, with the services
// that take bookings and those open for remote joining.
type BookableBranch struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Region   string            `json:"region"`
	Services []BookableService `json:"services"`
}

// BookableService is one service of a BookableBranch.
type BookableService struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Bookable bool   `json:"bookable"` // HQ schedules bookings for it
	Remote   bool   `json:"remote"`   // remote joining open (Rules.Appointments.Remote)
}

// Wiring and notices (for the public page and the bot): the PostgreSQL
// adapter is cloud/postgres/appt (appt.New(pool, rutKeys); the program builds
// one in cmd/ticketero-cloud/appointments.go as Main.appts). Commands it
// queues are published by cloud/commands, with or without Telegram: callers
// never publish them. BookRequest.Chat and JoinRequest.Chat are the
// telegram_chats row ID (the bot's chat row, not Telegram's chat ID): the
// store links a fresh token to it, the branch puts the token on the ticket
// it issues, and the existing ticket notices follow. The ingest writes
// notification jobs (telegram_jobs, params a Text rendered by the worker as
// any other) to that chat for: "appt_declined" (appointment.declined),
// "appt_cancelled" (cancelled by the branch) and "join_refused"
// (ticket.join_refused); a join the branch never answers is refused with
// Reason JoinUnreachable (no job: the page or bot reads it).

// Appointments is the book: what the public page and the bot use. Proof is
// what a customer shows to manage his booking: its code plus the RUT it was
// booked with (the store compares keyed hashes).
type Appointments interface {
	BookableBranches(ctx context.Context) ([]BookableBranch, error)
	// Slots lists the bookable slots of a branch's service on a day
	// (YYYY-MM-DD, the branch's time zone), full ones with Free 0.
	Slots(ctx context.Context, branch, service, day string) ([]Slot, error)
	// Book stores a booking if its slot has a free place (ErrSlotFull
	// otherwise: of two customers racing for the last place exactly one wins)
	// and queues the appointment.book command in the same transaction.
	Book(ctx context.Context, r BookRequest) (Booking, error)
	// Reschedule moves a booking to another slot (Rev+1, a new command).
	Reschedule(ctx context.Context, id, code, rut string, start time.Time) (Booking, error)
	// Cancel cancels a booking (and queues appointment.cancel).
	Cancel(ctx context.Context, id, code, rut string) (Booking, error)
	// Booking finds a booking by ID and code (ErrAppointmentNotFound).
	Booking(ctx context.Context, id, code string) (Booking, error)
	// Join queues a ticket.join command and returns the pending join.
	Join(ctx context.Context, r JoinRequest) (RemoteJoin, error)
	// RemoteJoin reads a join by ID and code (ErrAppointmentNotFound).
	RemoteJoin(ctx context.Context, id, code string) (RemoteJoin, error)
	// CheckIn queues ticket.check_in for an issued remote ticket (the branch's
	// QR scanned on the phone; token is the QR's branch token).
	CheckIn(ctx context.Context, id, code, token string) (RemoteJoin, error)
}

// Errors of Appointments, mapped to problem codes by the HTTP layer.
var (
	ErrSlotFull            = errors.New("appointment: slot full")
	ErrNotBookable         = errors.New("appointment: not bookable")
	ErrAppointmentNotFound = errors.New("appointment: not found")
	ErrTooLate             = errors.New("appointment: too late to change")
	ErrRemoteClosed        = errors.New("appointment: remote joining closed")
	ErrAlreadyBooked       = errors.New("appointment: customer already holds a booking that day")
)
