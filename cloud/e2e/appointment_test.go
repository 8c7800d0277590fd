package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// Issue #16 end to end (docs/appointments.md) with the real binaries: HQ
// sets a booking schedule and opens remote joining; customers book on the
// public page (as a phone would: GET pages, POST forms) and through the bot
// at the fake Bot API; 20 race for the last place of a slot; with the WAN
// cut a booked customer checks in at the kiosk by RUT and is called at his
// hour before the walk-ins; bookings made while the branch is offline reach
// it when it comes back, or are declined (and the customer told) when their
// window closed meanwhile; a remote ticket slides back while its customer is
// away and is called once he checks in at the kiosk by code.
//
// The story runs in order (each part its own subtest) at two branches of
// one cloud: the main one, and a second that goes offline (its agent
// stopped) for part 6. Slots lie on minute boundaries a little ahead: M2 at
// the second branch (booked while it is offline; its window closes before
// it comes back), and at the main one M (the booked customer's hour), M+10
// (the race for the last place) and M+60 (the bot's booking, whose
// hour-before reminder falls due at M). M is M2 + 1 min: the second branch
// comes back just after the main one's call at M, and the WAN cut around
// that call stays short (the agent's reconnect backoff grows with it).

const (
	apptBranch    = "E2E-APT"
	apptOffBranch = "E2E-APT2"
)

// apptWorld is the story's shared state.
type apptWorld struct {
	*env
	// off is the second branch, offline in part 6.
	off  *env
	tg   *telegramtest.Server
	hq   *hqForms
	loc  *time.Location
	keys *seal.RUTKeys
	// m2 and m are the first slots' starts at the second and the main
	// branch.
	m2, m time.Time
	// booked is the booked customer of parts 2 and 5: booking ID, code, RUT.
	bookedID, bookedCode, bookedRUT string
	// bookedNumber is his ticket's number (part 5's check-in).
	bookedNumber string
	// botCode is the bot's booking's code (its reminder names it).
	botCode string
	// late is the bot's booking of the second branch's slot m2 made while
	// it is offline; afterCut the page's one of its slot m2+10.
	lateID, afterCutID string
}

// apptRUT is a valid RUT with body n.
func apptRUT(n int) string {
	return fmt.Sprintf("%d-%c", n, queue.CheckDigit(n))
}

// Chats of the fake Bot API.
const (
	chatBooker = 7101 // books M+60 by the bot (part 3)
	chatLate   = 7102 // books M2 at the second branch by the bot while it is offline (part 6)
)

func TestAppointmentEndToEnd(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	if now := time.Now().In(loc); now.Add(70*time.Minute).Day() != now.Day() {
		t.Skip("the slots (up to M+65 min) would cross Santiago's midnight")
	}
	parallelOnClock(t)
	e := newEnv(t, apptBranch)
	w := &apptWorld{env: e, loc: loc}
	w.startAppt(t)

	if !t.Run("1_schedule_and_rules", w.scheduleAndRules) {
		return
	}
	t.Run("6_book_while_offline", w.bookOffline)
	t.Run("2_web_booking", w.webBooking)
	t.Run("3_bot_booking", w.botBooking)
	t.Run("4_race_for_last_place", w.race)
	t.Run("7_remote_ticket", w.remoteTicket)
	if !t.Run("5_wan_cut", w.wanCut) {
		return
	}
	t.Run("5_check_in_by_rut_and_call", w.checkInAndCall)
	t.Run("5_wan_returns", w.wanReturns)
	t.Run("6_offline_bookings", w.offlineBookings)
	t.Run("3_reminder_hour_before", w.reminder)
}

// startAppt starts the cloud (Telegram polling the fake Bot API, the RUT
// key, one trusted proxy hop so each phone has its own address) and the
// agent.
func (w *apptWorld) startAppt(t *testing.T) {
	w.tg = telegramtest.New(tgToken, telegramtest.Options{})
	t.Cleanup(w.tg.Close)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys, err := seal.NewRUTKeys(secret)
	require.NoError(t, err)
	w.keys = keys
	for k, v := range map[string]string{
		"TICKETERO_TELEGRAM_TOKEN":     tgToken,
		"TICKETERO_TELEGRAM_MODE":      "polling",
		"TICKETERO_TELEGRAM_API":       w.tg.URL,
		"TICKETERO_TELEGRAM_RETRIES":   "100ms,200ms,300ms",
		"TICKETERO_DATA_KEY":           base64.StdEncoding.EncodeToString([]byte("e2e-data-key-0123456789abcdef-32")),
		"TICKETERO_RUT_KEY":            base64.StdEncoding.EncodeToString(secret),
		"TICKETERO_TRUSTED_PROXY_HOPS": "1",
		"TICKETERO_CONFIG_REPORT":      "1s",
	} {
		w.setenv(k, v)
	}
	w.startCloud()
	w.startAgent()
	w.off = w.sibling(apptOffBranch)
	w.off.startAgent()
}

// scheduleAndRules is part 1: in HQ's forms an admin names each branch
// (open all day), sets Caja's booking schedule for today (5-minute slots,
// two executives, no walk-in reserve: two places each) and the appointment
// rules (grace 1 min; at the main branch hold 1 min, slide by 1 and remote
// joining open for Plataforma), and publishes; each agent runs the
// published version, whose snapshot carries Rules.Appointments.
func (w *apptWorld) scheduleAndRules(t *testing.T) {
	ctx := t.Context()
	for _, e := range []*env{w.env, w.off} {
		require.Eventually(t, func() bool {
			var n int
			_ = w.db.QueryRow(ctx, `SELECT count(*) FROM hq_services WHERE branch = $1`, e.branch).Scan(&n)
			return n > 0
		}, 60*time.Second, 100*time.Millisecond, "%s not imported: %s", e.branch, e.agent.output())
	}
	w.hq = w.hqAdmin()
	// M2: the next minute boundary at least 15 s ahead (part 6 books it
	// before then, in about 7 s); M a minute later (parts 2 to 7 take about
	// 35 s: the cloud publishes a branch command every 10 s).
	w.m2 = time.Now().In(w.loc).Add(15 * time.Second).Truncate(time.Minute).Add(time.Minute)
	w.m = w.m2.Add(time.Minute)
	require.Equal(t, w.m2.Day(), w.m.Add(65*time.Minute).Day(), "the slots lie in one day")
	main := event.AppointmentRules{EarlyMin: 30, GraceMin: 1, RunMax: 2, HoldMin: 1, SlideBy: 1,
		Remote: map[string]event.RemoteRule{"P": {Open: true}}}
	w.setUpBranch(t, w.env, "Agenda Centro", main, w.m, w.m.Add(10*time.Minute), w.m.Add(time.Hour))
	w.setUpBranch(t, w.off, "Agenda Sur", event.AppointmentRules{GraceMin: 1}, w.m2, w.m2.Add(10*time.Minute))
}

// setUpBranch names e's branch, sets Caja's schedule (a 5-minute range
// from each start, two places a slot) and the rules in HQ's forms, and
// publishes; the agent reports running the version.
func (w *apptWorld) setUpBranch(t *testing.T, e *env, name string, rules event.AppointmentRules, starts ...time.Time) {
	ctx := t.Context()
	code, body := w.hq.post("/config/branches", "from", "branch", "id", e.branch, "name", name, "region", "RM",
		"time_zone", "America/Santiago", "opening_hours", "00:00-23:59")
	require.Equal(t, http.StatusSeeOther, code, body)
	var ranges []string
	for _, from := range starts {
		ranges = append(ranges, from.Format("15:04")+"-"+from.Add(5*time.Minute).Format("15:04"))
	}
	day := cloud.WeekdayKey(starts[0].Weekday())
	_, body = w.hq.get("/config/branches/" + e.branch + "/appointments")
	require.Contains(t, body, `action="/config/branches/`+e.branch+`/appointments/C"`, "Caja's schedule form")
	code, body = w.hq.post("/config/branches/"+e.branch+"/appointments/C", "slot_min", "5", "reserve_pct", "0",
		"horizon_days", "7", "hours_"+day, strings.Join(ranges, ","), "executives_"+day, "2")
	require.Equal(t, http.StatusSeeOther, code, body)
	form := []string{}
	for k, v := range map[string]int{"early_min": rules.EarlyMin, "grace_min": rules.GraceMin, "run_max": rules.RunMax,
		"hold_min": rules.HoldMin, "slide_by": rules.SlideBy} {
		if v != 0 {
			form = append(form, k, strconv.Itoa(v))
		}
	}
	for svc, r := range rules.Remote {
		if r.Open {
			form = append(form, "remote_"+svc, "1")
		}
	}
	code, body = w.hq.post("/config/branches/"+e.branch+"/appointments/rules", form...)
	require.Equal(t, http.StatusSeeOther, code, body)
	code, body = w.hq.post("/config/branches/"+e.branch+"/publish", "confirm", "1")
	require.Equal(t, http.StatusSeeOther, code, body)

	var pub int
	var snap []byte
	require.NoError(t, w.db.QueryRow(ctx, `SELECT version, snapshot FROM hq_branch_configs WHERE branch = $1 ORDER BY version DESC LIMIT 1`,
		e.branch).Scan(&pub, &snap))
	var cfg event.Config
	require.NoError(t, json.Unmarshal(snap, &cfg))
	assert.Equal(t, rules, cfg.Rules.Appointments, "published with the branch config")

	// The agent runs it: HQ's name, and the version reported back.
	require.Eventually(t, func() bool {
		var b struct {
			Name string `json:"name"`
		}
		_, err := e.do("GET", "/api/v1/branch", "", nil, &b)
		return err == nil && b.Name == name
	}, 30*time.Second, 50*time.Millisecond, "config not applied: %s", e.agent.output())
	require.Eventually(t, func() bool {
		var ver int
		_ = w.db.QueryRow(ctx, `SELECT coalesce((SELECT config_version FROM branch_sync WHERE branch = $1), 0)`, e.branch).Scan(&ver)
		return ver == pub
	}, 30*time.Second, 100*time.Millisecond, "%s does not report running version %d", e.branch, pub)
}

// phone is a customer's browser on the public page: its own cookies and
// address (X-Forwarded-For through the one trusted hop).
type phone struct {
	t    *testing.T
	base string
	ip   string
	c    *http.Client
	// last is the URL of the last page (after redirects).
	last *url.URL
}

func (w *apptWorld) phone(t *testing.T, n int) *phone {
	jar, _ := cookiejar.New(nil)
	return &phone{t: t, base: "http://" + w.cloudAddr, ip: fmt.Sprintf("198.51.100.%d", n), c: &http.Client{Jar: jar}}
}

func (p *phone) do(req *http.Request) (int, string) {
	req.Header.Set("X-Forwarded-For", p.ip)
	req.Header.Set("Accept-Language", "es-CL,es")
	res, err := p.c.Do(req)
	require.NoError(p.t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	p.last = res.Request.URL
	return res.StatusCode, string(b)
}

func (p *phone) get(path string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
	return p.do(req)
}

func (p *phone) post(path string, v url.Values) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.base)
	return p.do(req)
}

var (
	slotLinkRe = regexp.MustCompile(`href="(/agenda/sucursal/[^"]+/reservar\?inicio=(\d+))"`)
	bookingRe  = regexp.MustCompile(`^/agenda/hora/([^/?]+)$`)
)

// openBookForm walks the public page to the booking form of the slot at
// start (home, branch, service, day) and returns the form's CSRF token.
func (p *phone) openBookForm(branch, service string, start time.Time, loc *time.Location) string {
	t := p.t
	code, body := p.get("/agenda")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `/agenda/sucursal/`+branch, "the branch is listed")
	code, body = p.get("/agenda/sucursal/" + branch)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `/agenda/sucursal/`+branch+`/`+service+`"`, "its service takes bookings")
	code, body = p.get("/agenda/sucursal/" + branch + "/" + service + "?dia=" + start.In(loc).Format(time.DateOnly))
	require.Equal(t, http.StatusOK, code, body)
	var link string
	for _, m := range slotLinkRe.FindAllStringSubmatch(body, -1) {
		if m[2] == strconv.FormatInt(start.Unix(), 10) {
			link = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	require.NotEmpty(t, link, "slot %s not offered: %s", start.In(loc).Format("15:04"), body)
	code, body = p.get(link)
	require.Equal(t, http.StatusOK, code, body)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(t, m, "no csrf on the booking form: %s", body)
	return m[1]
}

// book posts the booking form; it returns the answer's status and body,
// and the booking's ID and code when it was made (the manage page's URL).
func (p *phone) book(branch, service string, start time.Time, rut, note, csrf string) (int, string, string, string) {
	code, body := p.post("/agenda/sucursal/"+branch+"/"+service+"/reservar?inicio="+strconv.FormatInt(start.Unix(), 10),
		url.Values{"csrf": {csrf}, "inicio": {strconv.FormatInt(start.Unix(), 10)}, "rut": {rut}, "nota": {note}})
	m := bookingRe.FindStringSubmatch(p.last.Path)
	if m == nil {
		return code, body, "", ""
	}
	return code, body, m[1], p.last.Query().Get("c")
}

// bookingStatus is the booking's status in the cloud's book.
func (w *apptWorld) bookingStatus(t *testing.T, id string) (string, string) {
	var st, reason string
	require.NoError(t, w.db.QueryRow(t.Context(), `SELECT status, reason FROM appt_bookings WHERE id = $1`, id).Scan(&st, &reason))
	return st, reason
}

// waitBooking waits until the booking's status is want.
func (w *apptWorld) waitBooking(t *testing.T, id, want string, within time.Duration) {
	var st, reason string
	require.Eventually(t, func() bool {
		st, reason = w.bookingStatus(t, id)
		return st == want
	}, within, 100*time.Millisecond, "booking %s: %s %s, want %s", id, st, reason, want)
}

// webBooking is part 2: a customer books slot M on the public page; the
// booking reaches the agent (its appointment.received moves the cloud's
// booking to received) and the manage page says so.
func (w *apptWorld) webBooking(t *testing.T) {
	p := w.phone(t, 2)
	w.bookedRUT = apptRUT(15_111_222)
	csrf := p.openBookForm(w.branch, "C", w.m, w.loc)
	code, body, id, bcode := p.book(w.branch, "C", w.m, w.bookedRUT, "Vengo por un crédito", csrf)
	require.Equal(t, http.StatusOK, code, body)
	require.NotEmpty(t, id, "no booking page: %s %s", p.last, body)
	assert.Contains(t, body, `<p class="code">`+bcode+`</p>`)
	w.bookedID, w.bookedCode = id, bcode
	w.waitBooking(t, id, string(cloud.BookingReceived), 40*time.Second)
	_, body = p.get("/agenda/hora/" + id + "?c=" + bcode)
	assert.Contains(t, body, "confirmada por la sucursal")
	var n int
	require.NoError(t, w.db.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE branch = $1 AND type = 'appointment.received'
		AND data->>'appointment' = $2`, w.branch, id).Scan(&n))
	assert.Equal(t, 1, n, "one appointment.received from the branch")
}

// lastMessage is the chat's latest message with buttons (or any when
// buttons is false) after skip messages.
func (w *apptWorld) waitMessage(t *testing.T, chat int64, after int, pred func(telegramtest.Sent) bool) telegramtest.Sent {
	var got telegramtest.Sent
	require.Eventually(t, func() bool {
		var mine []telegramtest.Sent
		for _, s := range w.tg.Sent() {
			if s.ChatID == chat {
				mine = append(mine, s)
			}
		}
		for _, s := range mine[min(after, len(mine)):] {
			if pred(s) {
				got = s
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "chat %d: no such message after %d: %v", chat, after, w.tg.SentTo(chat))
	return got
}

func hasButton(data string) func(telegramtest.Sent) bool {
	return func(s telegramtest.Sent) bool { return slices.Contains(s.Buttons, data) }
}

func hasText(sub string) func(telegramtest.Sent) bool {
	return func(s telegramtest.Sent) bool { return strings.Contains(s.Text, sub) }
}

// botBook books start at the branch through /agendar: branch, service,
// day and slot buttons, then the RUT; it returns the confirmation.
func (w *apptWorld) botBook(t *testing.T, chat int64, branch string, start time.Time, rut string) string {
	n := len(w.tg.SentTo(chat))
	w.tg.AddUpdate(telegramtest.TextUpdate(chat, "es", "/agendar"))
	tap := func(data string) {
		m := w.waitMessage(t, chat, n, hasButton(data))
		n = len(w.tg.SentTo(chat))
		w.tg.AddCallback(chat, m.MessageID, "es", data)
	}
	tap("ap:b:" + branch)
	tap("ap:s:" + branch + ":C")
	tap("ap:d:" + branch + ":C:" + start.In(w.loc).Format(time.DateOnly))
	tap("ap:t:" + branch + ":C:" + strconv.FormatInt(start.Unix(), 10))
	w.waitMessage(t, chat, n, hasText("Escribe tu RUT"))
	n = len(w.tg.SentTo(chat))
	w.tg.AddUpdate(telegramtest.TextUpdate(chat, "es", rut))
	return w.waitMessage(t, chat, n, hasText("¡Listo! Tu hora:")).Text
}

var codeRe = regexp.MustCompile(`Tu código: (\d{6})\.`)

// botBooking is part 3 (booking): a customer books M+60 by the bot; his
// hour-before reminder falls due at M (part "3_reminder_hour_before").
func (w *apptWorld) botBooking(t *testing.T) {
	done := w.botBook(t, chatBooker, w.branch, w.m.Add(time.Hour), apptRUT(16_222_333))
	m := codeRe.FindStringSubmatch(done)
	require.NotNil(t, m, done)
	w.botCode = m[1]
	var id string
	require.NoError(t, w.db.QueryRow(t.Context(), `SELECT id FROM appt_bookings WHERE branch = $1 AND code = $2`, w.branch, w.botCode).Scan(&id))
	w.waitBooking(t, id, string(cloud.BookingReceived), 40*time.Second)
}

// race is part 4: slot M+10 has two places; one is taken, then 20
// customers (each his own phone and address) post the form for the last at
// once: exactly one is confirmed, 19 are told the slot is full, and the
// book holds two bookings of the slot.
func (w *apptWorld) race(t *testing.T) {
	start := w.m.Add(10 * time.Minute)
	first := w.phone(t, 40)
	code, body, id, _ := first.book(w.branch, "C", start, apptRUT(17_000_000), "", first.openBookForm(w.branch, "C", start, w.loc))
	require.Equal(t, http.StatusOK, code, body)
	require.NotEmpty(t, id)

	const n = 20
	phones := make([]*phone, n)
	csrfs := make([]string, n)
	for i := range phones {
		phones[i] = w.phone(t, 50+i)
		csrfs[i] = phones[i].openBookForm(w.branch, "C", start, w.loc)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full, other := 0, 0, []string{}
	gate := make(chan struct{})
	for i := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			code, body, id, _ := phones[i].book(w.branch, "C", start, apptRUT(17_000_001+i), "", csrfs[i])
			mu.Lock()
			defer mu.Unlock()
			switch {
			case code == http.StatusOK && id != "":
				ok++
			case code == http.StatusConflict && strings.Contains(body, "Esa hora se acaba de llenar."):
				full++
			default:
				other = append(other, fmt.Sprintf("%d %.200s", code, body))
			}
		}()
	}
	close(gate)
	wg.Wait()
	assert.Equal(t, 1, ok, "exactly one confirmation")
	assert.Equal(t, n-1, full, "the others told the slot is full")
	assert.Empty(t, other)
	var rows int
	require.NoError(t, w.db.QueryRow(t.Context(), `SELECT count(*) FROM appt_bookings WHERE branch = $1 AND start_at = $2`,
		w.branch, start).Scan(&rows))
	assert.Equal(t, 2, rows, "two bookings for two places: one row from the race")
}

// remoteTicket is part 7: a customer takes a Plataforma number from the
// public page; the branch issues it (number and place relayed to the
// status page); walk-ins come; it is never called while its customer is
// away, not even out of order; at the front it slides back (ticket.slid, the status page tells
// him); he checks in at the kiosk by code and the next call takes him.
func (w *apptWorld) remoteTicket(t *testing.T) {
	p := w.phone(t, 7)
	code, body := p.get("/agenda/sucursal/" + w.branch)
	require.Equal(t, http.StatusOK, code, body)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(t, m, "no join form: %s", body)
	code, body = p.post("/agenda/sucursal/"+w.branch+"/P/fila", url.Values{"csrf": {m[1]}})
	require.Equal(t, http.StatusOK, code, body)
	jm := regexp.MustCompile(`^/agenda/fila/([^/?]+)$`).FindStringSubmatch(p.last.Path)
	require.NotNil(t, jm, "no join page: %s", p.last)
	jid, jcode := jm[1], p.last.Query().Get("c")
	type state struct {
		Status   string `json:"status"`
		Printed  string `json:"printed"`
		Position int    `json:"position"`
		Detail   string `json:"detail"`
	}
	poll := func(what string, ok func(state) bool) state {
		var s state
		var last string
		require.Eventually(t, func() bool {
			_, last = p.get("/api/v1/public/joins/" + jid + "?code=" + jcode)
			s = state{}
			_ = json.Unmarshal([]byte(last), &s)
			return ok(s)
		}, 40*time.Second, 200*time.Millisecond, "%s: %s", what, last)
		return s
	}
	s := poll("issued", func(s state) bool { return s.Status == "issued" && s.Printed != "" && s.Position > 0 })
	assert.Equal(t, 1, s.Position, "first in Plataforma's line")
	_, body = p.get("/agenda/fila/" + jid + "?c=" + jcode)
	assert.Contains(t, body, "Tu número es "+s.Printed, "the status page shows the branch's number")
	var ticket string
	require.NoError(t, w.db.QueryRow(t.Context(), `SELECT ticket FROM appt_joins WHERE id = $1`, jid).Scan(&ticket))
	w.mu.Lock()
	w.tickets = append(w.tickets, ticket)
	w.mu.Unlock()

	// Walk-ins behind him; he is away: the calls take them, never him.
	walk := []issuedTicket{w.issueOne("P"), w.issueOne("P"), w.issueOne("P")}
	for _, tk := range walk {
		w.mu.Lock()
		w.tickets = append(w.tickets, tk.ID)
		w.mu.Unlock()
	}
	w.login()
	// At the front while away: slid back (the timer runs every 5 s).
	s = poll("slid", func(s state) bool { return strings.Contains(s.Detail, "te movimos unos lugares atrás") })
	var slid int
	require.NoError(t, w.db.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE branch = $1 AND type = 'ticket.slid'
		AND data->>'ticket' = $2`, w.branch, ticket).Scan(&slid))
	assert.Positive(t, slid)
	called := w.serveNext("")
	assert.Equal(t, walk[0].ID, called, "the walk-in, not the absent customer")
	// Not even out of order: his customer is not here.
	var refusal struct {
		Code string `json:"code"`
	}
	code, err := w.do("POST", "/api/v1/tickets/"+ticket+"/call", w.token, map[string]any{"counter": 1,
		"reason": "Cliente preguntó por él"}, &refusal)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, "ticket.not_present", refusal.Code)

	// He arrives and types his code at the kiosk; the next call is his.
	var in struct {
		Kind   string `json:"kind"`
		Ticket struct {
			ID string `json:"id"`
		} `json:"ticket"`
	}
	code, err = w.do("POST", "/api/v1/check-ins", "", map[string]string{"code": jcode}, &in)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "remote", in.Kind)
	assert.Equal(t, ticket, in.Ticket.ID)
	// Checked in, he keeps the place he slid to: ahead of the walk-ins
	// behind it, and is called before the last of them.
	order := []string{w.serveNext(""), w.serveNext("")}
	assert.Contains(t, order, ticket, "called once present")
	assert.NotContains(t, order, walk[2].ID, "before the walk-in who came after him")
	poll("closed after the call", func(s state) bool { return s.Status == "closed" })
	w.drain(t)
}

// drain serves every waiting ticket (counter 1 calls until no one waits).
func (w *apptWorld) drain(t *testing.T) {
	for range 20 {
		var tk issuedTicket
		code, err := w.do("POST", "/api/v1/counters/1/call-next", w.token, nil, &tk)
		require.NoError(t, err)
		if code != http.StatusOK {
			return
		}
		w.do("POST", "/api/v1/tickets/"+tk.ID+"/start", w.token, nil, nil)
		w.do("POST", "/api/v1/tickets/"+tk.ID+"/complete", w.token, map[string]string{"outcome": "ok"}, nil)
	}
	t.Fatal("the queue did not drain")
}

// wanCut is part 5's cut: eight seconds before M, once the branch's
// events are all acknowledged, the WAN goes down (the broker stops).
func (w *apptWorld) wanCut(t *testing.T) {
	require.True(t, time.Now().Before(w.m.Add(-10*time.Second)), "the story ran late: M is %s", w.m.Format("15:04:05"))
	w.converge(30 * time.Second)
	time.Sleep(time.Until(w.m.Add(-8 * time.Second)))
	w.broker.Stop()
	require.Eventually(t, func() bool { return !w.agentSync().Connected }, 30*time.Second, 50*time.Millisecond)
}

// bookOffline is part 6's first half: the second branch goes offline (its
// agent stops); a customer books its slot M2 by the bot and another its
// slot M2+10 on the page.
func (w *apptWorld) bookOffline(t *testing.T) {
	w.off.agent.stop()
	require.Eventually(t, func() bool {
		var online bool
		err := w.db.QueryRow(t.Context(), `SELECT online FROM branch_sync WHERE branch = $1`, w.off.branch).Scan(&online)
		return err == nil && !online
	}, 10*time.Second, 50*time.Millisecond, "the cloud sees the branch offline")
	w.botBook(t, chatLate, w.off.branch, w.m2, apptRUT(18_333_444))
	require.NoError(t, w.db.QueryRow(t.Context(), `SELECT id FROM appt_bookings WHERE branch = $1 AND channel = 'telegram'
		AND start_at = $2`, w.off.branch, w.m2).Scan(&w.lateID))
	p := w.phone(t, 8)
	later := w.m2.Add(10 * time.Minute)
	code, body, id, _ := p.book(w.off.branch, "C", later, apptRUT(19_444_555), "", p.openBookForm(w.off.branch, "C", later, w.loc))
	require.Equal(t, http.StatusOK, code, body)
	w.afterCutID = id
	require.True(t, time.Now().Before(w.m2), "booked before M2")
}

// checkInAndCall is part 5 at the branch with the WAN down: two Caja
// walk-ins wait; the booked customer of part 2 checks in at the kiosk by
// RUT (the box holds the day's bookings) and gets his ticket; called before
// his hour the walk-in goes first; at his hour the next call is his though
// the second walk-in came before him.
func (w *apptWorld) checkInAndCall(t *testing.T) {
	require.NotEmpty(t, w.bookedID, "part 2 booked no one")
	if w.token == "" {
		w.login()
	}
	w.drain(t) // whatever an earlier part left waiting
	walk := []issuedTicket{w.issueOne("C"), w.issueOne("C")}
	var in struct {
		Kind   string `json:"kind"`
		Ticket struct {
			ID     string `json:"id"`
			Number string `json:"number"`
		} `json:"ticket"`
		Appointment struct {
			ID   string `json:"id"`
			Late bool   `json:"late"`
		} `json:"appointment"`
	}
	code, err := w.do("POST", "/api/v1/check-ins", "", map[string]string{"rut": w.bookedRUT}, &in)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, "check-in by RUT with the WAN down")
	assert.Equal(t, "appointment", in.Kind)
	assert.Equal(t, w.bookedID, in.Appointment.ID)
	assert.False(t, in.Appointment.Late)
	w.bookedNumber = in.Ticket.Number
	w.mu.Lock()
	w.tickets = append(w.tickets, walk[0].ID, walk[1].ID, in.Ticket.ID)
	w.mu.Unlock()

	if time.Now().Before(w.m.Add(-2 * time.Second)) {
		assert.Equal(t, walk[0].ID, w.serveNext(""), "before his hour a walk-in goes first")
	} else {
		t.Log("M came before the early call; skipping it")
	}
	time.Sleep(time.Until(w.m) + 200*time.Millisecond)
	assert.Equal(t, in.Ticket.ID, w.serveNext(""), "at his hour the booked customer goes before the walk-in")
	assert.Positive(t, w.agentSync().Backlog, "events wait at the branch")
	w.serveNext("") // the second walk-in
}

// reminder is part 3's reminder: from M the bot's booking of M+60 is an
// hour away, and its reminder reaches the chat (the cloud checks every
// 30 s).
func (w *apptWorld) reminder(t *testing.T) {
	w.waitMessage(t, chatBooker, 0, hasText("es hoy a las "+w.m.Add(time.Hour).In(w.loc).Format("15:04")+". Tu código: "+w.botCode+"."))
}

// wanReturns is part 5 after the cut: the broker comes back; the cloud
// shows the booking checked in and the branch's events and tickets equal
// the cloud's.
func (w *apptWorld) wanReturns(t *testing.T) {
	require.NoError(t, w.broker.Start())
	w.waitBooking(t, w.bookedID, string(cloud.BookingCheckedIn), 60*time.Second)
	// HQ's book of the day says so, with the ticket the branch issued.
	_, body := w.hq.get("/branches/" + w.branch + "/book?day=" + w.m.In(w.loc).Format(time.DateOnly))
	assert.Contains(t, body, `<tr id="b-`+w.bookedID+`"><td>`+w.m.In(w.loc).Format("15:04:05")+`</td><td>C</td><td>`+w.bookedCode+"</td>\n<td>Llegó</td>")
	assert.Contains(t, body, "<td>"+w.bookedNumber+"</td>")
	w.checkInvariant()
}

// offlineBookings is part 6: once slot M2's window closed (grace 1 min)
// the second branch comes back; the page's booking made while it was
// offline reaches it; the bot's booking of M2 is declined (slot_passed) and
// its customer told at the fake Bot API.
func (w *apptWorld) offlineBookings(t *testing.T) {
	time.Sleep(time.Until(w.m2.Add(time.Minute + time.Second)))
	w.off.startAgent()
	w.waitBooking(t, w.afterCutID, string(cloud.BookingReceived), 40*time.Second)
	w.waitBooking(t, w.lateID, string(cloud.BookingDeclined), 40*time.Second)
	_, reason := w.bookingStatus(t, w.lateID)
	assert.Equal(t, event.DeclineSlotPassed, reason)
	_, body := w.hq.get("/branches/" + w.off.branch + "/book?day=" + w.m2.In(w.loc).Format(time.DateOnly))
	assert.Contains(t, body, "<td>Rechazada por la sucursal (slot_passed)</td>", "HQ's book")
	w.waitMessage(t, chatLate, 0, hasText("no pudo confirmarse en la sucursal: llegó a la sucursal cuando ya había pasado su horario."))
}
