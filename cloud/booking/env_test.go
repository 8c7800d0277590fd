package booking_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/booking"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/ratelimit"
	"github.com/ticketero/ticketero/shared/seal"
)

// env is a real book on PostgreSQL behind the real handler on a real HTTP
// server.
type env struct {
	t     testing.TB
	pool  *pgxpool.Pool
	store *appt.Store
	keys  *seal.RUTKeys
	h     *booking.Handler
	srv   *httptest.Server
	zone  *time.Location
}

type envOpt struct {
	reads, writes *ratelimit.Config
	executives    int // places per slot (reserve 0)
	branches      int // extra branches B-0001... for the benchmark
}

func newEnv(tb testing.TB, o envOpt) *env {
	tb.Helper()
	pool := postgrestest.MustPool(tb)
	zone, err := time.LoadLocation("America/Santiago")
	require.NoError(tb, err)
	// The cloud's RUT keys, as in production: a booking keeps the keyed hash
	// and the sealed RUT; the command queue computes the check-in hash.
	keys, err := seal.NewRUTKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(tb, err)
	e := &env{t: tb, pool: pool, store: appt.New(pool, keys), keys: keys, zone: zone}
	if o.executives == 0 {
		o.executives = 1
	}
	e.seed("SCL-001", "Providencia Centro", "Región Metropolitana", o.executives, true)
	e.seed("VAP-002", "Valparaíso Puerto", "Valparaíso", o.executives, false)
	for i := 1; i <= o.branches; i++ {
		e.seed(fmt.Sprintf("B-%04d", i), fmt.Sprintf("Sucursal %d", i), "Región de Prueba", o.executives, false)
	}
	if o.reads == nil {
		o.reads = &ratelimit.Config{}
	}
	if o.writes == nil {
		o.writes = &ratelimit.Config{}
	}
	e.h, err = booking.New(booking.Config{Appointments: e.store, BotName: "TicketeroBot", Reads: o.reads, Writes: o.writes})
	require.NoError(tb, err)
	e.srv = httptest.NewServer(e.h)
	tb.Cleanup(e.srv.Close)
	return e
}

// seed makes a branch with services C (bookable every day 09:00–18:00 with
// executives places a 15-minute slot) and P (remote joining open when
// remote).
func (e *env) seed(id, name, region string, executives int, remote bool) {
	e.t.Helper()
	ctx := context.Background()
	e.exec(`INSERT INTO branches (id, name, region) VALUES ($1, $2, $3)`, id, name, region)
	e.exec(`INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s, priority) VALUES
		($1, 'C', 'Caja', 600, 300, 1), ($1, 'P', 'Plataforma', 900, 600, 2)`, id)
	snap := `{"rules":{"appointments":{"remote":{"P":{"open":` + strconv.FormatBool(remote) + `}}}}}`
	e.exec(`INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by) VALUES ($1, 1, $2::jsonb, now(), 'test')`, id, snap)
	week := map[string][]cloud.BookingHours{}
	for _, d := range cloud.Weekdays {
		week[d] = []cloud.BookingHours{{From: "09:00", To: "18:00", Executives: executives}}
	}
	require.NoError(e.t, e.store.SaveSchedule(ctx, cloud.BookingSchedule{Branch: id, Service: "C", SlotMin: 15, ReservePct: 0,
		HorizonDays: 14, Weekly: week}, "test"))
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	_, err := e.pool.Exec(context.Background(), sql, args...)
	require.NoError(e.t, err)
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// tomorrow is the branch's next business day (Santiago).
func (e *env) tomorrow() string {
	return time.Now().In(e.zone).AddDate(0, 0, 1).Format(time.DateOnly)
}

// at is a slot's start on day at hh:mm in Santiago.
func (e *env) at(day, hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, e.zone)
	require.NoError(e.t, err)
	return t
}

// browser is a customer's phone: cookies kept, redirects not followed.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	lang string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.srv.URL, lang: "es-CL", c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	req.Header.Set("Accept-Language", b.lang)
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return res, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post submits a form, with the CSRF token of the page at from (when not "").
func (b *browser) post(from, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if from != "" {
		_, page := b.get(from)
		m := csrfRE.FindStringSubmatch(page)
		require.NotNil(b.t, m, "no CSRF token on %s", from)
		form.Set("csrf", m[1])
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// rutOf makes a valid RUT from a body (mod-11 check digit).
func rutOf(body int) string {
	return fmt.Sprintf("%d-%c", body, queue.CheckDigit(body))
}
