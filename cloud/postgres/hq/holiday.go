package hq

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Holidays returns the public holidays HQ keeps for a year, by date.
func (s *Store) Holidays(ctx context.Context, year int) ([]event.Holiday, error) {
	rows, err := s.pool.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), name FROM hq_holidays
		WHERE day >= make_date($1, 1, 1) AND day < make_date($1 + 1, 1, 1) ORDER BY day`, year)
	if err != nil {
		return nil, wrap("holidays", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (event.Holiday, error) {
		var h event.Holiday
		return h, r.Scan(&h.Date, &h.Name)
	})
	return out, wrap("holidays", err)
}

// PutHoliday adds a public holiday (or renames it) for every branch; branches
// get it with their next published config. Errors: invalid hq.holiday.invalid.
func (s *Store) PutHoliday(ctx context.Context, h event.Holiday, by string) error {
	if err := event.ValidHoliday(h); err != nil {
		return queue.Errorf(queue.CodeInvalid, "hq.holiday.invalid", h.Date)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_holidays (day, name, updated_at, updated_by) VALUES ($1::date, $2, $3, $4)
		ON CONFLICT (day) DO UPDATE SET name = EXCLUDED.name, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		h.Date, h.Name, s.now(), by)
	return wrap("put holiday", err)
}

// DeleteHoliday removes a public holiday. Errors: invalid hq.holiday.invalid;
// not_found hq.holiday.not_found.
func (s *Store) DeleteHoliday(ctx context.Context, date string) error {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return queue.Errorf(queue.CodeInvalid, "hq.holiday.invalid", date)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM hq_holidays WHERE day = $1::date`, date)
	if err != nil {
		return wrap("delete holiday", err)
	}
	if tag.RowsAffected() == 0 {
		return queue.Errorf(queue.CodeNotFound, "hq.holiday.not_found", date)
	}
	return nil
}

// BranchHours returns a branch's schedule settings beside its opening hours:
// hours per weekday, close grace and last-ticket cut-offs (no holidays: those
// are the network's). A branch never set has none.
func (s *Store) BranchHours(ctx context.Context, branch string) (event.Hours, error) {
	var h event.Hours
	var weekly, last []byte
	err := s.pool.QueryRow(ctx, `SELECT weekly_hours, close_grace_min, last_ticket FROM hq_branch_hours WHERE branch = $1`, branch).
		Scan(&weekly, &h.CloseGraceMin, &last)
	if err == pgx.ErrNoRows {
		return h, nil
	}
	if err != nil {
		return h, wrap("branch hours", err)
	}
	if err := json.Unmarshal(weekly, &h.WeeklyHours); err != nil {
		return h, wrap("branch hours", err)
	}
	if err := json.Unmarshal(last, &h.LastTicket); err != nil {
		return h, wrap("branch hours", err)
	}
	if len(h.WeeklyHours) == 0 {
		h.WeeklyHours = nil
	}
	if len(h.LastTicket) == 0 {
		h.LastTicket = nil
	}
	return h, nil
}

// PutBranchHours stores a branch's schedule settings (h.Holidays is ignored).
// A cut-off must name a service of the branch's draft. Errors: invalid
// hq.branch.hours, hq.hours.grace, hq.hours.cutoff, service.unknown,
// hq.hours.invalid; not_found hq.branch.not_found.
func (s *Store) PutBranchHours(ctx context.Context, branch string, h event.Hours) error {
	c, err := s.BranchConfig(ctx, branch)
	if err != nil {
		return err
	}
	h.Holidays = nil
	services := map[string]bool{}
	for _, sv := range c.Services {
		services[sv.Code] = true
	}
	// The common mistakes get their own message; anything else the wire's rule.
	for _, d := range event.Weekdays {
		if r, ok := h.WeeklyHours[d]; ok && r != "" && !event.ValidOpeningHours(r) {
			return queue.Errorf(queue.CodeInvalid, "hq.branch.hours", r)
		}
	}
	if g := h.CloseGraceMin; g != nil && (*g < 0 || *g > event.MaxCloseGraceMin) {
		return queue.Errorf(queue.CodeInvalid, "hq.hours.grace_range", event.MaxCloseGraceMin)
	}
	for code, c := range h.LastTicket {
		if !services[code] {
			return queue.Errorf(queue.CodeInvalid, "service.unknown", code)
		}
		if _, _, err := event.ParseCutoff(c); err != nil {
			return queue.Errorf(queue.CodeInvalid, "hq.hours.cutoff", code, c)
		}
	}
	if err := h.Validate(services); err != nil {
		return queue.Errorf(queue.CodeInvalid, "hq.hours.invalid", err.Error())
	}
	if h.WeeklyHours == nil {
		h.WeeklyHours = map[string]string{}
	}
	if h.LastTicket == nil {
		h.LastTicket = map[string]string{}
	}
	weekly, _ := json.Marshal(h.WeeklyHours)
	last, _ := json.Marshal(h.LastTicket)
	_, err = s.pool.Exec(ctx, `INSERT INTO hq_branch_hours (branch, weekly_hours, close_grace_min, last_ticket, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (branch) DO UPDATE SET weekly_hours = EXCLUDED.weekly_hours, close_grace_min = EXCLUDED.close_grace_min,
			last_ticket = EXCLUDED.last_ticket, updated_at = EXCLUDED.updated_at`,
		branch, weekly, h.CloseGraceMin, last, s.now())
	return wrap("put branch hours", err)
}

// publishedHours is the schedule a published config carries: the branch's
// settings, cut-offs only for services it still has, and the network's
// holidays from yesterday (time zones) to 400 days ahead (the branch never
// needs older ones; a year's list is kept complete before it starts).
func (s *Store) publishedHours(ctx context.Context, tx pgx.Tx, branch string, services []queue.Service) (event.Hours, error) {
	h, err := s.BranchHours(ctx, branch)
	if err != nil {
		return h, err
	}
	for code := range h.LastTicket {
		found := false
		for _, sv := range services {
			found = found || sv.Code == code
		}
		if !found {
			delete(h.LastTicket, code)
		}
	}
	today := s.now().UTC().Format(time.DateOnly)
	rows, err := tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), name FROM hq_holidays
		WHERE day >= $1::date - 1 AND day < $1::date + 400 ORDER BY day`, today)
	if err != nil {
		return h, wrap("publish holidays", err)
	}
	h.Holidays, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (event.Holiday, error) {
		var d event.Holiday
		return d, r.Scan(&d.Date, &d.Name)
	})
	if len(h.Holidays) == 0 {
		h.Holidays = nil
	}
	return h, wrap("publish holidays", err)
}
