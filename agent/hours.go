package agent

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// Schedule is a branch's opening schedule as the engine enforces it. A nil
// *Schedule is a branch with no hours configured: open all day, the business
// day ends at midnight (as before hours existed).
//
// The kiosk issues a ticket of a service only inside an opening range of
// today, before the service's last-ticket cut-off (counted from the day's
// last closing time), and never on a holiday or a weekday without hours. The
// business day ends at the day's last closing time plus the grace: open
// tickets are abandoned then. Calls are never refused: customers already
// waiting are served until the day ends.
type Schedule struct {
	base     []span                  // every day's ranges (opening_hours)
	week     map[time.Weekday][]span // per weekday overrides; empty = closed
	holidays map[string]string       // date → name
	grace    time.Duration
	cutoff   map[string]cutoff // by service
}

type span struct{ from, to int } // minutes since midnight

type cutoff struct {
	min int  // minutes before closing, or minute of day when at
	at  bool // min is a time of day
}

// NewSchedule compiles HQ's opening hours (every day's ranges) and the
// additive schedule fields. Both empty: no schedule (nil).
func NewSchedule(openingHours string, h event.Hours) (*Schedule, error) {
	if openingHours == "" && len(h.WeeklyHours) == 0 {
		return nil, nil
	}
	if openingHours != "" && !event.ValidOpeningHours(openingHours) {
		return nil, fmt.Errorf("schedule: opening hours %q", openingHours)
	}
	s := &Schedule{base: spans(openingHours), week: map[time.Weekday][]span{}, holidays: map[string]string{},
		grace: h.Grace(), cutoff: map[string]cutoff{}}
	known := 0
	for i, d := range event.Weekdays {
		r, ok := h.WeeklyHours[d]
		if !ok {
			continue
		}
		if r != "" && !event.ValidOpeningHours(r) {
			return nil, fmt.Errorf("schedule: hours of %s %q", d, r)
		}
		s.week[time.Weekday(i)] = spans(r)
		known++
	}
	if known != len(h.WeeklyHours) {
		return nil, fmt.Errorf("schedule: weekly hours: weekdays are %v", event.Weekdays)
	}
	for _, d := range h.Holidays {
		s.holidays[d.Date] = d.Name
	}
	for code, c := range h.LastTicket {
		m, at, err := event.ParseCutoff(c)
		if err != nil {
			return nil, fmt.Errorf("schedule: service %s: %w", code, err)
		}
		s.cutoff[code] = cutoff{min: m, at: at}
	}
	return s, nil
}

// spans parses validated "HH:MM-HH:MM,..." ranges.
func spans(s string) []span {
	if s == "" {
		return nil
	}
	var out []span
	for _, r := range strings.Split(s, ",") {
		from, to, _ := strings.Cut(r, "-")
		out = append(out, span{clock(from), clock(to)})
	}
	return out
}

func clock(hhmm string) int {
	h, _ := strconv.Atoi(hhmm[:2])
	m, _ := strconv.Atoi(hhmm[3:])
	return h*60 + m
}

// day returns the ranges of the date of t (in its location) and the name of
// the holiday it is ("" if none; holiday true).
func (s *Schedule) day(t time.Time) (ranges []span, holiday string, isHoliday bool) {
	if name, ok := s.holidays[t.Format(time.DateOnly)]; ok {
		return nil, name, true
	}
	if r, ok := s.week[t.Weekday()]; ok {
		return r, "", false
	}
	return s.base, "", false
}

// at is minute m of the date of t, in t's location.
func at(t time.Time, m int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), m/60, m%60, 0, 0, t.Location())
}

// DayEnd is when the business day of date (YYYY-MM-DD, in loc) ends: its last
// closing time plus the grace. False for a day without hours (it ends at
// midnight).
func (s *Schedule) DayEnd(date string, loc *time.Location) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return time.Time{}, false
	}
	r, _, _ := s.day(d)
	if len(r) == 0 {
		return time.Time{}, false
	}
	return at(d, r[len(r)-1].to).Add(s.grace), true
}

// Today is the ranges of now's date as "09:00-13:00,14:00-17:00"; "" for a
// holiday or a weekday without hours.
func (s *Schedule) Today(now time.Time) string {
	r, _, _ := s.day(now)
	out := make([]string, 0, len(r))
	for _, sp := range r {
		out = append(out, fmt.Sprintf("%02d:%02d-%02d:%02d", sp.from/60, sp.from%60, sp.to/60, sp.to%60))
	}
	return strings.Join(out, ",")
}

// NextOpening is the first opening time after now (in now's location), within
// the next four weeks; false if there is none (every day closed).
func (s *Schedule) NextOpening(now time.Time) (time.Time, bool) {
	for i := 0; i <= 28; i++ {
		d := time.Date(now.Year(), now.Month(), now.Day()+i, 0, 0, 0, 0, now.Location())
		r, _, _ := s.day(d)
		for _, sp := range r {
			if o := at(d, sp.from); o.After(now) {
				return o, true
			}
		}
	}
	return time.Time{}, false
}

// CheckIssue says whether a ticket of service may be issued at now (in the
// branch's location).
//
// Errors: conflict branch.holiday, branch.closed (before opening, between
// ranges, after closing, on a day without hours), service.closed_for_today
// (past the service's last-ticket cut-off).
func (s *Schedule) CheckIssue(service queue.Service, now time.Time) error {
	if s == nil {
		return nil
	}
	r, holiday, isHoliday := s.day(now)
	next := func() Opening { o, ok := s.NextOpening(now); return Opening{At: o, Now: now, Known: ok} }
	if isHoliday {
		return queue.Errorf(queue.CodeConflict, "branch.holiday", holidayName(holiday), next())
	}
	open := false
	for _, sp := range r {
		if !now.Before(at(now, sp.from)) && now.Before(at(now, sp.to)) {
			open = true
			break
		}
	}
	// Past the service's cut-off while the branch is open or in a break: the
	// service is done for today (after the last closing, the branch is closed).
	if c, ok := s.cutoff[service.Code]; ok && len(r) > 0 && now.Before(at(now, r[len(r)-1].to)) {
		last := c.min
		if !c.at {
			last = r[len(r)-1].to - c.min
		}
		if !now.Before(at(now, last)) && (open || !now.Before(at(now, r[0].from))) {
			// Next opening of another day: the cut-off holds for the rest of today.
			tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, now.Location())
			o, ok := s.NextOpening(tomorrow.Add(-time.Nanosecond))
			return queue.Errorf(queue.CodeConflict, "service.closed_for_today", service.Name, Opening{At: o, Now: now, Known: ok})
		}
	}
	if !open {
		return queue.Errorf(queue.CodeConflict, "branch.closed", next())
	}
	return nil
}

// holidayName renders an unnamed holiday as "feriado"/"holiday".
type holidayName string

// Localize implements queue.Localizer.
func (h holidayName) Localize(lang i18n.Lang) string {
	if h != "" {
		return string(h)
	}
	return i18n.T(lang, "hours.holiday")
}

// Opening is when a closed branch or service opens next, as a refusal's
// message argument: "hoy a las 15:00", "mañana a las 09:00", "el lunes 7 de
// diciembre a las 09:00" (branch time).
type Opening struct {
	At    time.Time // in the branch's location
	Now   time.Time
	Known bool // false: no opening in the next four weeks
}

// Localize implements queue.Localizer.
func (o Opening) Localize(lang i18n.Lang) string {
	if !o.Known {
		return i18n.T(lang, "hours.opens_unknown")
	}
	hm := o.At.Format("15:04")
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	switch int(day(o.At).Sub(day(o.Now)).Hours() / 24) {
	case 0:
		return i18n.T(lang, "hours.opens_today", hm)
	case 1:
		return i18n.T(lang, "hours.opens_tomorrow", hm)
	}
	wd := i18n.T(lang, "hours.weekday."+event.Weekdays[o.At.Weekday()])
	month := i18n.T(lang, "hours.month."+strconv.Itoa(int(o.At.Month())))
	return i18n.T(lang, "hours.opens_on", wd, o.At.Day(), month, hm)
}
