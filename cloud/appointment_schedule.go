package cloud

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/event"
)

// Booking schedules (HQ's part of docs/appointments.md): per branch and
// service, the weekly hours in which executives serve bookings, exceptions per
// date, the slot length and the share of capacity held for walk-ins.

// Weekdays are the keys of BookingSchedule.Weekly, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// WeekdayKey is the Weekly key of d.
func WeekdayKey(d time.Weekday) string { return Weekdays[(int(d)+6)%7] }

// BookingHours is one range of a day in which Executives serve bookings.
type BookingHours struct {
	From       string `json:"from"` // "HH:MM", branch time
	To         string `json:"to"`
	Executives int    `json:"executives"`
}

// BookingException replaces a date's weekly hours; no Hours: closed.
type BookingException struct {
	Day   string         `json:"day"` // YYYY-MM-DD
	Hours []BookingHours `json:"hours"`
	Note  string         `json:"note,omitempty"`
}

// BookingSchedule is a service's booking schedule at a branch.
type BookingSchedule struct {
	Branch  string `json:"branch"`
	Service string `json:"service"`
	// SlotMin is the slot length in minutes (5..240).
	SlotMin int `json:"slot_min"`
	// ReservePct is the share of the executives' capacity held for walk-ins
	// (0..100). A slot's places are floor(executives × (100 − ReservePct) /
	// 100): 2 executives with 30 % reserve give 1 place, not 1.4.
	ReservePct int `json:"reserve_pct"`
	// HorizonDays: how many days ahead customers may book (1..90).
	HorizonDays int                       `json:"horizon_days"`
	Weekly      map[string][]BookingHours `json:"weekly"`
	Exceptions  []BookingException        `json:"exceptions,omitempty"`
	UpdatedAt   time.Time                 `json:"updated_at,omitzero"`
	UpdatedBy   string                    `json:"updated_by,omitempty"`
}

// Schedule defaults.
const (
	DefaultSlotMin     = 15
	DefaultReservePct  = 30
	DefaultHorizonDays = 14
	// MaxBookingExecutives bounds the executives of one range.
	MaxBookingExecutives = 50
)

// SlotPlaces is the places of a slot served by executives under a reserve:
// floor(executives × (100 − reservePct) / 100).
func SlotPlaces(executives, reservePct int) int {
	if executives <= 0 || reservePct >= 100 {
		return 0
	}
	return executives * (100 - max(reservePct, 0)) / 100
}

// ScheduleError names the field of a schedule that is not valid (Field: a
// stable code such as "slot_min", "weekly.mon", "exception.2026-12-25").
type ScheduleError struct{ Field, Reason string }

func (e *ScheduleError) Error() string { return "schedule: " + e.Field + ": " + e.Reason }

// ParseClock parses "HH:MM" into minutes from midnight.
func ParseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// validHours checks one day's ranges: well formed, opening before closing,
// at least one slot long, 1..MaxBookingExecutives executives, no overlap.
func validHours(hs []BookingHours, slotMin int) bool {
	type span struct{ from, to int }
	var spans []span
	for _, h := range hs {
		f, ok1 := ParseClock(h.From)
		t, ok2 := ParseClock(h.To)
		if !ok1 || !ok2 || t-f < slotMin || h.Executives < 1 || h.Executives > MaxBookingExecutives {
			return false
		}
		spans = append(spans, span{f, t})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	for i := 1; i < len(spans); i++ {
		if spans[i].from < spans[i-1].to {
			return false
		}
	}
	return true
}

// Validate checks a schedule; a *ScheduleError names the first bad field.
func (s BookingSchedule) Validate() error {
	switch {
	case s.SlotMin < 5 || s.SlotMin > 240:
		return &ScheduleError{"slot_min", "5..240"}
	case s.ReservePct < 0 || s.ReservePct > 100:
		return &ScheduleError{"reserve_pct", "0..100"}
	case s.HorizonDays < 1 || s.HorizonDays > 90:
		return &ScheduleError{"horizon_days", "1..90"}
	}
	for k, hs := range s.Weekly {
		if !slices.Contains(Weekdays, k) || !validHours(hs, s.SlotMin) {
			return &ScheduleError{"weekly." + k, "ranges HH:MM-HH:MM, at least one slot long, 1..50 executives, not overlapping"}
		}
	}
	seen := map[string]bool{}
	for _, e := range s.Exceptions {
		if _, err := time.Parse(time.DateOnly, e.Day); err != nil || seen[e.Day] {
			return &ScheduleError{"exception." + e.Day, "a date, once"}
		}
		seen[e.Day] = true
		if !validHours(e.Hours, s.SlotMin) || len([]rune(e.Note)) > 80 {
			return &ScheduleError{"exception." + e.Day, "ranges HH:MM-HH:MM, at least one slot long, 1..50 executives, not overlapping"}
		}
	}
	return nil
}

// SlotPlan is one slot of a day with its places before bookings.
type SlotPlan struct {
	Start, End time.Time
	Places     int
}

// DaySlots lays out the slots of day (YYYY-MM-DD in loc) from hours (the
// exception's if the day has one, else the weekday's): each range cut into
// slotMin slots, the last one ending at or before its close.
func DaySlots(hours []BookingHours, day string, loc *time.Location, slotMin, reservePct int) ([]SlotPlan, error) {
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return nil, fmt.Errorf("schedule: day %q: %w", day, err)
	}
	var out []SlotPlan
	for _, h := range hours {
		f, ok1 := ParseClock(h.From)
		t, ok2 := ParseClock(h.To)
		if !ok1 || !ok2 || slotMin <= 0 {
			continue
		}
		places := SlotPlaces(h.Executives, reservePct)
		for m := f; m+slotMin <= t; m += slotMin {
			start := time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, loc)
			out = append(out, SlotPlan{Start: start, End: start.Add(time.Duration(slotMin) * time.Minute), Places: places})
		}
	}
	slices.SortFunc(out, func(a, b SlotPlan) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// HoursOn is the ranges of day under s: the exception's, else the weekday's.
func (s BookingSchedule) HoursOn(day string) []BookingHours {
	for _, e := range s.Exceptions {
		if e.Day == day {
			return e.Hours
		}
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return nil
	}
	return s.Weekly[WeekdayKey(d.Weekday())]
}

// BookEntry is a booking as HQ's book lists it (no RUT, no hash).
type BookEntry struct {
	Booking
	CancelledBy string `json:"cancelled_by,omitempty"`
}

// BookAudit is one line of the book's audit.
type BookAudit struct {
	At      time.Time `json:"at"`
	Booking string    `json:"booking,omitempty"`
	Action  string    `json:"action"`
	Actor   string    `json:"actor"`
	Detail  string    `json:"detail,omitempty"`
}

// AppointmentReportRow is one branch's appointment figures over a period:
// no-shows, punctuality (check-in minus start) and the waits of booked and
// walk-in customers (from the tickets' channel; wait = called − queued).
type AppointmentReportRow struct {
	Branch    string `json:"branch"`
	Booked    int    `json:"booked"` // bookings whose slot fell in the period
	CheckedIn int    `json:"checked_in"`
	Late      int    `json:"late"`
	Missed    int    `json:"missed"`
	Cancelled int    `json:"cancelled"`
	Declined  int    `json:"declined"`
	// NoShowPct is Missed over (CheckedIn + Missed), in percent.
	NoShowPct float64 `json:"no_show_pct"`
	// PunctualityMedianS is the median of check-in − start (negative: early).
	PunctualityMedianS int `json:"punctuality_median_s"`
	// WaitBookedS and WaitWalkInS are the mean waits of tickets of channel
	// appointment and of the other channels; RemoteWaitS of web/telegram.
	WaitBookedS  int `json:"wait_booked_s"`
	WaitWalkInS  int `json:"wait_walk_in_s"`
	BookedTicket int `json:"booked_tickets"`
	WalkInTicket int `json:"walk_in_tickets"`
}

// AppointmentAdmin is HQ's side of the book (the HQ web uses it; the
// PostgreSQL adapter implements it).
type AppointmentAdmin interface {
	// Schedules lists a branch's booking schedules, with their exceptions.
	Schedules(ctx context.Context, branch string) ([]BookingSchedule, error)
	// SaveSchedule validates and stores a schedule (its exceptions replace the
	// stored ones), audited as actor.
	SaveSchedule(ctx context.Context, s BookingSchedule, actor string) error
	// DeleteSchedule stops bookings for a service (existing ones stay).
	DeleteSchedule(ctx context.Context, branch, service, actor string) error
	// DayBook lists a branch's bookings of a day, by start.
	DayBook(ctx context.Context, branch, day string) ([]BookEntry, error)
	// CancelByHQ cancels a booking with a reason (audited; queues
	// appointment.cancel like a customer's cancel).
	CancelByHQ(ctx context.Context, id, reason, actor string) (Booking, error)
	// BookAudit is the branch's latest audit lines (newest first).
	BookAudit(ctx context.Context, branch string, limit int) ([]BookAudit, error)
	// CheckInToken is the token of the branch's entrance QR (made on first use).
	CheckInToken(ctx context.Context, branch string) (string, error)
	// AppointmentRules is the branch's draft Rules.Appointments (published
	// with the next config, like the other rules).
	AppointmentRules(ctx context.Context, branch string) (event.AppointmentRules, error)
	// PutAppointmentRules validates (ValidateAppointmentRules) and stores
	// them, audited as actor.
	PutAppointmentRules(ctx context.Context, branch string, r event.AppointmentRules, actor string) error
	// AppointmentReport is per branch over [from, to] (days, branch time);
	// branches nil: all.
	AppointmentReport(ctx context.Context, branches []string, from, to string) ([]AppointmentReportRow, error)
}

// Bounds of event.AppointmentRules as HQ edits them.
const (
	MaxEarlyMin  = 240
	MaxGraceMin  = 120
	MaxRunMax    = 10
	MaxHoldMin   = 120
	MaxSlideBy   = 20
	MaxRemoteCap = 500
)

// ValidateAppointmentRules checks a branch's appointment rules: every bound
// (0: the default) and every remote rule on one of services.
func ValidateAppointmentRules(r event.AppointmentRules, services []string) error {
	for _, f := range []struct {
		name   string
		v, max int
	}{{"early_min", r.EarlyMin, MaxEarlyMin}, {"grace_min", r.GraceMin, MaxGraceMin}, {"run_max", r.RunMax, MaxRunMax},
		{"hold_min", r.HoldMin, MaxHoldMin}, {"slide_by", r.SlideBy, MaxSlideBy}} {
		if f.v < 0 || f.v > f.max {
			return &ScheduleError{Field: f.name, Reason: fmt.Sprintf("0..%d", f.max)}
		}
	}
	for code, rr := range r.Remote {
		if !slices.Contains(services, code) {
			return &ScheduleError{Field: "remote." + code, Reason: "unknown service"}
		}
		if rr.Cap < 0 || rr.Cap > MaxRemoteCap {
			return &ScheduleError{Field: "remote." + code, Reason: fmt.Sprintf("cap 0..%d", MaxRemoteCap)}
		}
	}
	return nil
}
