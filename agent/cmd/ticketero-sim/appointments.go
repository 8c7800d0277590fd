package main

// Booked customers (docs/appointments.md), with --cloud: each simulated day,
// every branch gets a few bookings through the cloud's public API
// (/api/v1/public, cloud/http/openapi.json) and their customers check in at
// the kiosk by code (POST /api/v1/check-ins, "Tengo hora agendada"). Bookings
// and check-ins run on the real clock, the branch's: a slot is a real hour, so
// they are booked a few real minutes ahead and the customers come around
// them, most on time, some late (past the grace minutes: a walk-in), the
// last one never.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketero/ticketero/shared/backoff"
)

// apptLeadMin is how soon a booked slot may start (real time): the cloud
// needs a moment to send the booking to the branch (it publishes every 10 s).
const apptLeadMin = 3 * time.Minute

// arrival is what a booked customer does: come on time (Offset before the
// slot, within check-in's opening), late (after it: the grace has passed) or
// not at all.
type arrival struct {
	Offset time.Duration // from the slot's start; negative is early
	Absent bool
}

// planArrivals decides how n booked customers of a day come (in the order of
// their hours): the last one never does, about one in four is late (12 to 20 minutes after his hour,
// past the default 10 minutes' grace), the rest arrive 1 to 10 minutes early.
func planArrivals(n int, rng *rand.Rand) []arrival {
	out := make([]arrival, n)
	for i := range out {
		switch {
		case i == n-1:
			out[i] = arrival{Absent: true}
		case i%4 == 1:
			out[i] = arrival{Offset: time.Duration(12+rng.IntN(9)) * time.Minute}
		default:
			out[i] = arrival{Offset: -time.Duration(1+rng.IntN(10)) * time.Minute}
		}
	}
	return out
}

type publicSlot struct {
	Start time.Time `json:"start"`
	Free  int       `json:"free"`
}

type publicBooking struct {
	ID    string    `json:"id"`
	Start time.Time `json:"start"`
	Code  string    `json:"code"`
}

// pickSlots chooses up to n slots with a free place starting between from and
// to, spread over the span, in order.
func pickSlots(slots []publicSlot, from, to time.Time, n int, rng *rand.Rand) []publicSlot {
	var ok []publicSlot
	for _, s := range slots {
		if s.Free > 0 && !s.Start.Before(from) && !s.Start.After(to) {
			ok = append(ok, s)
		}
	}
	rng.Shuffle(len(ok), func(i, j int) { ok[i], ok[j] = ok[j], ok[i] })
	ok = ok[:min(n, len(ok))]
	slices.SortFunc(ok, func(a, b publicSlot) int { return a.Start.Compare(b.Start) })
	return ok
}

// santiago is the demo branches' time zone (the public API's days are the
// branch's).
var santiago = func() *time.Location {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// bookedCustomers books cfg.Appointments slots at branch b for the coming
// real minutes (within one simulated day's real length, at least 30 minutes)
// and sends each customer to the kiosk per planArrivals, once the branch has
// a bookable service (it waits for one until dayCtx ends). The check-ins run
// on ctx (the run's), not the day's: a late customer may come after the
// simulated day ended. wg tracks them.
func bookedCustomers(dayCtx, ctx context.Context, cfg Config, b string, agentC, cloudC *client, rng *rand.Rand, st *stats,
	wg *sync.WaitGroup, logger *slog.Logger) {
	var svcs, remote []string
	for {
		var err error
		if svcs, remote, err = bookable(dayCtx, cloudC, b); err != nil {
			apptFail(dayCtx, st, logger, "public branches", err)
			return
		}
		if len(svcs) > 0 {
			break
		}
		// HQ may be setting the schedules up (the demo does it while the
		// simulation starts): look again a little later today.
		if backoff.Sleep(dayCtx, 20*time.Second) != nil {
			logger.Info("no bookable service at the branch today: no appointments")
			return
		}
	}
	if len(remote) > 0 {
		// Later in the day (the bookings have the public API's write budget
		// first), he comes in a few minutes after taking his number.
		joinAt, comeAfter := time.Duration(1+rng.IntN(5))*time.Minute, time.Duration(2+rng.IntN(5))*time.Minute
		wg.Add(1)
		go func() {
			defer wg.Done()
			remoteJoin(ctx, cfg.Cloud, agentC, b, remote[rng.IntN(len(remote))], joinAt, comeAfter, st, logger)
		}()
	}
	now := time.Now()
	from := now.Add(apptLeadMin)
	to := from.Add(max(time.Duration(float64(cfg.DayLength)/cfg.Speed), 30*time.Minute))
	plan := planArrivals(cfg.Appointments, rng)
	svc := svcs[rng.IntN(len(svcs))]
	var slots []publicSlot
	days := []string{from.In(santiago).Format(time.DateOnly)}
	if d := to.In(santiago).Format(time.DateOnly); d != days[0] { // the span crosses midnight
		days = append(days, d)
	}
	for _, day := range days {
		var res struct {
			Slots []publicSlot `json:"slots"`
		}
		path := "/api/v1/public/branches/" + url.PathEscape(b) + "/services/" + svc + "/slots?day=" + day
		if _, err := cloudC.do(ctx, http.MethodGet, path, "", nil, &res, nil); err != nil {
			apptFail(ctx, st, logger, "slots", err)
			return
		}
		slots = append(slots, res.Slots...)
	}
	// The customers' RUTs differ from run to run: one booking per RUT, branch
	// and day, and a demo may be restarted the same day.
	people := rand.New(rand.NewPCG(rng.Uint64(), uint64(now.UnixNano()))) // #nosec G404 -- not a secret: simulated people
	for i, s := range pickSlots(slots, from, to, len(plan), rng) {
		bk, err := book(ctx, cloudC, b, svc, s.Start, randomRUT(people))
		var ae *apiError
		for try := 0; try < 3 && errors.As(err, &ae) && ae.Code == "booking.already_booked"; try++ {
			bk, err = book(ctx, cloudC, b, svc, s.Start, randomRUT(people)) // taken: another person
		}
		if err != nil {
			apptFail(ctx, st, logger, "book", err)
			continue
		}
		st.booked.Add(1)
		a := plan[i]
		logger.Info("appointment booked", "service", svc, "start", bk.Start.In(santiago).Format("15:04"), "code", bk.Code,
			"plan", a.describe())
		if a.Absent {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			checkIn(ctx, agentC, bk, a, st, logger)
		}()
	}
}

// bookable is the codes of branch b's services that take bookings, and of
// those open to remote joining.
func bookable(ctx context.Context, c *client, b string) (book, remote []string, err error) {
	var list struct {
		Branches []struct {
			ID       string `json:"id"`
			Services []struct {
				Code     string `json:"code"`
				Bookable bool   `json:"bookable"`
				Remote   bool   `json:"remote"`
			} `json:"services"`
		} `json:"branches"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/public/branches?q="+url.QueryEscape(b), "", nil, &list, nil); err != nil {
		return nil, nil, err
	}
	for _, br := range list.Branches {
		if br.ID != b {
			continue
		}
		for _, s := range br.Services {
			if s.Bookable {
				book = append(book, s.Code)
			}
			if s.Remote {
				remote = append(remote, s.Code)
			}
		}
	}
	return book, remote, nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// remoteJoin is a customer who, at (real time from now), takes a number from
// his phone (the booking page's "Tomar número ahora" form, which has no JSON
// twin), then comes to the branch after a while and types his code at the
// kiosk.
func remoteJoin(ctx context.Context, cloudBase string, agentC *client, b, svc string, at, after time.Duration, st *stats,
	logger *slog.Logger) {
	if backoff.Sleep(ctx, at) != nil {
		return
	}
	hc := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := cloudBase + "/agenda/sucursal/" + url.PathEscape(b)
	code, err := func() (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, page, nil) // #nosec G704 -- the cloud address given on the simulator's command line
		if err != nil {
			return "", err
		}
		res, err := hc.Do(req) // #nosec G704 -- the cloud address given on the simulator's command line
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		m := csrfField.FindSubmatch(body)
		if res.StatusCode != http.StatusOK || m == nil {
			return "", fmt.Errorf("join page: HTTP %d without its form", res.StatusCode)
		}
		form := url.Values{"csrf": {string(m[1])}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, page+"/"+svc+"/fila", strings.NewReader(form.Encode())) // #nosec G704 -- the cloud address given on the simulator's command line
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range res.Cookies() { // the form's double-submit cookie
			req.AddCookie(c)
		}
		res, err = hc.Do(req) // #nosec G704 -- the cloud address given on the simulator's command line
		if err != nil {
			return "", err
		}
		res.Body.Close()
		loc, err := res.Location()
		if res.StatusCode != http.StatusSeeOther || err != nil || loc.Query().Get("c") == "" {
			return "", fmt.Errorf("join: HTTP %d", res.StatusCode)
		}
		return loc.Query().Get("c"), nil
	}()
	if err != nil {
		apptFail(ctx, st, logger, "remote join", err)
		return
	}
	st.joined.Add(1)
	logger.Info("remote join", "service", svc, "code", code, "comes_in", after)
	if backoff.Sleep(ctx, after) != nil {
		return
	}
	var res struct {
		Ticket ticket `json:"ticket"`
	}
	if err := kioskCheckIn(ctx, agentC, code, &res); err != nil {
		apptFail(ctx, st, logger, "remote check-in", err)
		return
	}
	st.checkedIn.Add(1)
	logger.Info("remote ticket checked in", "code", code, "ticket", res.Ticket.Number)
}

// kioskCheckIn types code at the kiosk ("Tengo hora agendada"). The branch
// may not hold the booking or remote ticket yet (the cloud resends it every
// 10 s) or check-in may not be open: it tries again for a few minutes.
func kioskCheckIn(ctx context.Context, c *client, code string, out any) error {
	var err error
	for range 10 {
		_, err = c.do(ctx, http.MethodPost, "/api/v1/check-ins", "", map[string]string{"code": code}, out, nil)
		var ae *apiError
		if err == nil || !errors.As(err, &ae) ||
			(ae.Code != "checkin.not_found" && ae.Code != "appointment.too_early" && ae.Code != "rate.limited") {
			return err
		}
		if err := backoff.Sleep(ctx, 30*time.Second); err != nil {
			return err
		}
	}
	return err
}

func (a arrival) describe() string {
	switch {
	case a.Absent:
		return "never comes"
	case a.Offset > 0:
		return fmt.Sprintf("late %v", a.Offset)
	}
	return fmt.Sprintf("early %v", -a.Offset)
}

// book books a slot, waiting out the public API's rate limit.
func book(ctx context.Context, c *client, branch, svc string, start time.Time, rut string) (publicBooking, error) {
	var bk publicBooking
	body := map[string]string{"branch": branch, "service": svc, "start": start.Format(time.RFC3339), "rut": rut,
		"note": "Cliente simulado"}
	for range 10 {
		_, err := c.do(ctx, http.MethodPost, "/api/v1/public/bookings", "", body, &bk, nil)
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
			return bk, err
		}
		if err := backoff.Sleep(ctx, 6*time.Second); err != nil {
			return bk, err
		}
	}
	return bk, errors.New("public API: rate limited")
}

// checkIn types the booking's code at the kiosk at its planned time.
func checkIn(ctx context.Context, c *client, bk publicBooking, a arrival, st *stats, logger *slog.Logger) {
	if err := backoff.Sleep(ctx, max(time.Until(bk.Start.Add(a.Offset)), 0)); err != nil {
		return
	}
	var res struct {
		Ticket      ticket `json:"ticket"`
		Appointment struct {
			Late bool `json:"late"`
		} `json:"appointment"`
	}
	err := kioskCheckIn(ctx, c, bk.Code, &res)
	if err != nil {
		apptFail(ctx, st, logger, "check-in", err)
		return
	}
	st.checkedIn.Add(1)
	if res.Appointment.Late {
		st.late.Add(1)
	}
	logger.Info("appointment checked in", "code", bk.Code, "ticket", res.Ticket.Number, "late", res.Appointment.Late)
}

func apptFail(ctx context.Context, st *stats, logger *slog.Logger, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	st.errors.Add(1)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status >= 500 {
		st.serverErrors.Add(1)
	}
	logger.Warn("appointment failed", "action", what, "err", err)
}
