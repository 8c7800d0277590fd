// Package appt is the PostgreSQL storage of appointments and the virtual
// queue (docs/appointments.md): HQ's booking schedules, the book, remote
// joins, and the branch commands that carry them (appointment.book/cancel,
// ticket.join/check_in), stored with their payload and published again until
// the branch's answer marks them applied. It implements cloud.Appointments
// (the public page and the bot), cloud.AppointmentAdmin (the HQ web) and the
// command queue the republisher runs on.
//
// Capacity: a slot's places are floor(executives × (100 − reserve) / 100)
// minus its active bookings (booked, received, checked in). Book counts them
// after locking the slot's row in appt_slot_locks, in the transaction that
// inserts the booking and its command: of two customers racing for the last
// place exactly one wins.
package appt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// Store is the book on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	keys *seal.RUTKeys
	// Now is the clock (tests move it).
	Now func() time.Time
	// NewID makes IDs of bookings, joins and commands (prefix + random).
	NewID func(prefix string) string

	mu       sync.Mutex
	bookable []cloud.BookableBranch
	bookAt   time.Time
	// slots caches Slots for slotsTTL per branch, service and day: a burst of
	// customers on one page costs one query a second (a booking through this
	// store drops its day at once; other replicas' within the TTL).
	slots map[slotKey]slotEntry
	// zones caches branches' time zones (Store.zone).
	zones map[string]zoneEntry
	// filling holds the reads in flight: the callers of a key that is being
	// read wait for that read instead of each running their own.
	filling map[slotKey]*fill
}

type fill struct {
	done  chan struct{}
	slots []cloud.Slot
	err   error
}

type slotKey struct{ branch, service, day string }

type slotEntry struct {
	at    time.Time
	slots []cloud.Slot
}

// slotsTTL is how long a day's slots are served from memory.
const slotsTTL = time.Second

// New builds the store. keys (the cloud's RUT keys) hash and seal customers'
// RUTs; without them (TICKETERO_RUT_KEY unset) a booking keeps the check-in
// hash as its RUT pseudonym and no sealed RUT.
func New(pool *pgxpool.Pool, keys *seal.RUTKeys) *Store {
	return &Store{pool: pool, keys: keys, Now: time.Now, NewID: newID}
}

var (
	_ cloud.Appointments     = (*Store)(nil)
	_ cloud.AppointmentAdmin = (*Store)(nil)
)

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// newCode is a random 6-digit check-in code.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "ap" + hex.EncodeToString(b[:])
}

// active is the SQL list of statuses that hold a place.
const active = `('booked', 'received', 'checked_in')`

// How long commands are sent again before the cloud gives up.
const (
	// bookExpiry after the slot's end: the branch answers slot_passed by then.
	bookExpiry = 24 * time.Hour
	// joinExpiry: a remote ticket is asked for now or not at all.
	joinExpiry = 10 * time.Minute
	// checkInExpiry: a QR scan is worth this long.
	checkInExpiry = 30 * time.Minute
)

// rutPseudonyms are what a booking keeps of a RUT: the keyed hash (or, with
// no key, the check-in hash) and the RUT sealed to the cloud's own key, and
// the check-in hash the branch's order carries. With the cloud's keys (the
// production setup) check is "": the command queue computes it from the
// sealed RUT when it first publishes the command (commands.go), so no
// booking waits for an argon2id. Without keys (a development setup) there
// is nothing to open later: the check-in hash is computed here, on the
// request path, and serves as the pseudonym too.
func (s *Store) rutPseudonyms(ctx context.Context, branch, day, rut string) (hash, sealed, check string, err error) {
	if s.keys == nil {
		if check, err = checkInHash(ctx, branch, day, rut); err != nil {
			return "", "", "", err
		}
		return "chk:" + check, "", check, nil
	}
	if sealed, err = s.keys.Seal(rut); err != nil {
		return "", "", "", err
	}
	return s.keys.Hash(rut), sealed, "", nil
}

// rutHash is the pseudonym a proof is compared with.
func (s *Store) rutHash(ctx context.Context, branch, day, rut string) (string, error) {
	if s.keys == nil {
		check, err := checkInHash(ctx, branch, day, rut)
		return "chk:" + check, err
	}
	return s.keys.Hash(rut), nil
}

// hashing bounds the check-in hashes computed at once in this process:
// seal.CheckInHash is argon2id with 16 MiB of memory and ~20 ms of CPU by
// design, so GOMAXPROCS at a time use the CPUs fully and a burst queues
// instead of asking for 16 MiB per caller.
var hashing = make(chan struct{}, runtime.GOMAXPROCS(0))

// checkInHash is seal.CheckInHash through the hashing bound (the wait
// counts against ctx).
func checkInHash(ctx context.Context, branch, day, rut string) (string, error) {
	select {
	case hashing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-hashing }()
	return seal.CheckInHash(branch, day, rut), nil
}

// normRUT validates and normalises a RUT typed by the customer.
func normRUT(rut string) (string, error) {
	r, err := queue.ParseRUT(rut)
	if err != nil {
		return "", err
	}
	return string(r), nil
}

// payload is what a command row carries beside its type and ticket.
// CheckDay, set while the order's RUTCheck is still to be computed from its
// sealed RUT, is the branch's business day it is salted with (the command
// queue computes it before the first publish and stores it here; it never
// goes to the branch).
type payload struct {
	Appointment *event.AppointmentOrder `json:"appointment,omitempty"`
	Join        *event.JoinOrder        `json:"join,omitempty"`
	CheckDay    string                  `json:"check_day,omitempty"`
}

// queueCommand stores a command for the republisher (published with its
// payload until the answer marks it applied). key fills branch_commands.ticket:
// the ticket for ticket.check_in, the booking or join ID otherwise.
// checkDay is the business day of a RUTCheck left to the queue ("" when the
// order has one or carries no RUT).
func queueCommand(ctx context.Context, tx pgx.Tx, c event.Command, key string, expires time.Time, checkDay string) error {
	p, err := json.Marshal(payload{Appointment: c.Appointment, Join: c.Join, CheckDay: checkDay})
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, insertCommand, c.ID, c.Branch, c.Type, key, c.At, p, expires)
	if err != nil {
		return fmt.Errorf("appt: queue %s: %w", c.Type, err)
	}
	return nil
}

const insertCommand = `INSERT INTO branch_commands (id, branch, type, ticket, created_at, payload, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`

// supersede gives up the pending commands of types for key (a reschedule or
// cancel replaces the booking's pending appointment.book).
func supersede(ctx context.Context, tx pgx.Tx, branch, key string, types ...string) error {
	_, err := tx.Exec(ctx, `UPDATE branch_commands SET status = 'expired'
		WHERE branch = $1 AND ticket = $2 AND type = ANY($3) AND status = 'pending'`, branch, key, types)
	if err != nil {
		return fmt.Errorf("appt: supersede commands: %w", err)
	}
	return nil
}

// reserveCode takes a check-in code for ref at branch on day, trying want
// first (a rescheduled booking keeps its code when it can).
func reserveCode(ctx context.Context, tx pgx.Tx, branch, day, ref, want string) (string, error) {
	for i := 0; i < 20; i++ {
		code := want
		if code == "" || i > 0 {
			code = newCode()
		}
		var got string
		err := tx.QueryRow(ctx, insertCode, branch, day, code, ref).Scan(&got)
		if err == nil {
			return got, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return "", fmt.Errorf("appt: reserve code: %w", err)
		}
	}
	return "", errors.New("appt: no free check-in code")
}

// zone is a branch's time zone (America/Santiago when unknown).
func zone(ctx context.Context, q querier, branch string) (*time.Location, error) {
	var tz string
	err := q.QueryRow(ctx, `SELECT COALESCE((SELECT time_zone FROM branches WHERE id = $1), 'America/Santiago')`, branch).Scan(&tz)
	if err != nil {
		return nil, fmt.Errorf("appt: time zone: %w", err)
	}
	return location(tz)
}

// locations caches time.LoadLocation by name: it reads the zone data each
// call, and loadDay and Join resolve a branch's zone on every request.
var locations sync.Map

// location is the named time zone (America/Santiago when it does not load).
func location(tz string) (*time.Location, error) {
	if l, ok := locations.Load(tz); ok {
		return l.(*time.Location), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		if loc, err = time.LoadLocation("America/Santiago"); err != nil {
			return nil, err
		}
	}
	locations.Store(tz, loc)
	return loc, nil
}

// zone is a branch's time zone as zone reads it, kept for bookableTTL (a
// burst of bookings asks the same few branches).
func (s *Store) zone(ctx context.Context, branch string) (*time.Location, error) {
	now := s.Now()
	s.mu.Lock()
	z, ok := s.zones[branch]
	s.mu.Unlock()
	if ok && now.Sub(z.at) < bookableTTL && now.Sub(z.at) >= 0 {
		return z.loc, nil
	}
	loc, err := zone(ctx, s.pool, branch)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.zones == nil || len(s.zones) > 10_000 {
		s.zones = map[string]zoneEntry{}
	}
	s.zones[branch] = zoneEntry{at: now, loc: loc}
	s.mu.Unlock()
	return loc, nil
}

type zoneEntry struct {
	at  time.Time
	loc *time.Location
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}
