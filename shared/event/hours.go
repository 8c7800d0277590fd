package event

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// Hours are the parts of a branch's opening schedule added to the config
// snapshot after opening_hours (all optional, so old snapshots still apply):
// hours per weekday, the holidays the branch is closed, how long after closing
// the business day ends, and each service's last-ticket cut-off.
//
// Config.OpeningHours stays the hours of every day a WeeklyHours entry does not
// override. With neither set the branch has no schedule and is open all day.
type Hours struct {
	// WeeklyHours overrides OpeningHours per weekday ("mon" … "sun"): ranges as
	// in OpeningHours, or "" for a day the branch is closed.
	WeeklyHours map[string]string `json:"weekly_hours,omitempty"`
	// Holidays are the days the branch is closed (Chile's public holidays, kept
	// per year at HQ).
	Holidays []Holiday `json:"holidays,omitempty"`
	// CloseGraceMin is how many minutes after closing time the business day
	// ends (open tickets abandoned); nil means DefaultCloseGraceMin.
	CloseGraceMin *int `json:"close_grace_min,omitempty"`
	// LastTicket is each service's last-ticket cut-off: minutes before the
	// day's closing ("30") or a time of day ("13:30").
	LastTicket map[string]string `json:"last_ticket,omitempty"`
}

// Holiday is a day a branch is closed.
type Holiday struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name,omitempty"`
}

// DefaultCloseGraceMin is the grace after closing time when HQ sets none.
const DefaultCloseGraceMin = 30

// MaxCloseGraceMin bounds the grace (the day still ends at midnight at most).
const MaxCloseGraceMin = 240

// Weekdays are the keys of WeeklyHours, indexed by time.Weekday.
var Weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var (
	cutoffMinRE = regexp.MustCompile(`^\d{1,3}$`)
	clockRE     = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
)

// Grace is the close grace in force.
func (h Hours) Grace() time.Duration {
	if h.CloseGraceMin == nil {
		return DefaultCloseGraceMin * time.Minute
	}
	return time.Duration(*h.CloseGraceMin) * time.Minute
}

// ParseCutoff reads a last-ticket cut-off: minutes before closing ("30") or a
// time of day ("13:30", returned as minutes since midnight with at true).
func ParseCutoff(s string) (minutes int, at bool, err error) {
	switch {
	case clockRE.MatchString(s):
		h, _ := strconv.Atoi(s[:2])
		m, _ := strconv.Atoi(s[3:])
		return h*60 + m, true, nil
	case cutoffMinRE.MatchString(s):
		n, _ := strconv.Atoi(s)
		if n <= 24*60 {
			return n, false, nil
		}
	}
	return 0, false, fmt.Errorf("last-ticket cut-off %q: minutes before closing (0-1440) or HH:MM", s)
}

// ValidHoliday reports whether h is a real date with a short printable name.
func ValidHoliday(h Holiday) error {
	if _, err := time.Parse(time.DateOnly, h.Date); err != nil {
		return fmt.Errorf("holiday date %q: want YYYY-MM-DD", h.Date)
	}
	if !utf8.ValidString(h.Name) || utf8.RuneCountInString(h.Name) > 80 {
		return fmt.Errorf("holiday name of %s: valid text of at most 80 characters", h.Date)
	}
	for _, r := range h.Name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("holiday name of %s: control character", h.Date)
		}
	}
	return nil
}

// Validate checks the schedule; services are the config's service codes (a
// cut-off must name one of them).
func (h Hours) Validate(services map[string]bool) error {
	for day, r := range h.WeeklyHours {
		if !validWeekday(day) {
			return fmt.Errorf("weekly hours: unknown weekday %q (want mon … sun)", day)
		}
		if r != "" && !ValidOpeningHours(r) {
			return fmt.Errorf("weekly hours of %s: %q", day, r)
		}
	}
	seen := map[string]bool{}
	for _, d := range h.Holidays {
		if err := ValidHoliday(d); err != nil {
			return err
		}
		if seen[d.Date] {
			return fmt.Errorf("holiday %s twice", d.Date)
		}
		seen[d.Date] = true
	}
	if g := h.CloseGraceMin; g != nil && (*g < 0 || *g > MaxCloseGraceMin) {
		return fmt.Errorf("close grace %d min: want 0-%d", *g, MaxCloseGraceMin)
	}
	for code, c := range h.LastTicket {
		if !services[code] {
			return fmt.Errorf("last-ticket cut-off for unknown service %q", code)
		}
		if _, _, err := ParseCutoff(c); err != nil {
			return err
		}
	}
	return nil
}

func validWeekday(s string) bool {
	for _, d := range Weekdays {
		if d == s {
			return true
		}
	}
	return false
}
