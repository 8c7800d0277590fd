package web_test

import (
	"context"
	"encoding/csv"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
)

// auditActionsInCode greps every non-test Go file of the cloud module for the
// audit actions it writes: the Audit* constants (hq, retention), the string
// literals handed to an audit writer (enroll), SQL literals in files that
// insert into hq_audit (config import), and the branch security events
// the ingest copies into the audit (their event type is the action).
func auditActionsInCode(t *testing.T) []string {
	t.Helper()
	constRE := regexp.MustCompile(`(?m)^\s*(?:const\s+)?(Audit\w*)\s*=\s*"([^"]+)"`)
	callRE := regexp.MustCompile(`(?m)\baudit\(ctx,.*$`)
	litRE := regexp.MustCompile(`"([a-z]+\.[a-z_]+)"`)
	fieldRE := regexp.MustCompile(`Action:\s*"([^"]+)"`)
	sqlLitRE := regexp.MustCompile(`'([a-z]+\.[a-z_]+)'`)
	seen := map[string]bool{}
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range constRE.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], "Actor") { // AuditActor names who, not what
				seen[m[2]] = true
			}
		}
		for _, m := range fieldRE.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
		if strings.Contains(string(b), "INSERT INTO hq_audit") { // actions written as SQL literals
			for _, m := range sqlLitRE.FindAllStringSubmatch(string(b), -1) {
				seen[m[1]] = true
			}
		}
		for _, line := range callRE.FindAllString(string(b), -1) {
			for _, m := range litRE.FindAllStringSubmatch(line, -1) {
				seen[m[1]] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	for typ, mk := range event.Types {
		switch mk().(type) {
		case *event.SignIn, *event.Admin, *event.Manager: // cloud/postgres/audit.go
			seen[string(typ)] = true
		}
		if typ == event.ExecutiveLoggedOut { // audited when the branch manager signs an executive out
			seen[string(typ)] = true
		}
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Issue 15: the audit showed auth.login_failed and hq.login.failed.
func TestAuditInSpanish(t *testing.T) {
	actions := auditActionsInCode(t)
	for _, want := range []string{cloud.AuditLogin, cloud.AuditLoginFailed, cloud.AuditCSRF, "personal.anonymise", "enroll.code_used", "executive.login_failed", "executive.admin"} {
		require.Contains(t, actions, want, "the grep finds every kind of writer")
	}
	for _, a := range actions {
		assert.True(t, i18n.Has("hq.audit.act."+a), "audit action %q has no label in the catalogue", a)
	}

	e := newEnv(t)
	e.user("aud@bank.cl", "admin", nil, nil)
	ctx := context.Background()
	// Rows of every kind, removed afterwards: other tests count audit rows.
	t.Cleanup(func() { _, _ = e.f.Pool.Exec(context.Background(), `DELETE FROM hq_audit WHERE actor = 'label-test'`) })
	for _, a := range actions {
		require.NoError(t, e.store.Audit(ctx, cloud.AuditEntry{Actor: "label-test", Action: a, Detail: "hq.login.failed"}))
	}
	c, _ := e.login("aud@bank.cl")
	res, body := e.get(c, "/admin/audit")
	require.Equal(t, http.StatusOK, res.StatusCode)
	cells := regexp.MustCompile(`<td title="([^"]+)">([^<]*)</td>`).FindAllStringSubmatch(body, -1)
	shown := map[string]string{}
	for _, m := range cells {
		shown[m[1]] = html.UnescapeString(m[2])
	}
	for _, a := range actions {
		assert.Equal(t, i18n.T(i18n.ES, "hq.audit.act."+a), shown[a], a)
	}
	assert.Equal(t, "Inicio de sesión rechazado", shown[cloud.AuditLoginFailed])
	assert.NotContains(t, body, ">hq.login.failed<")
	assert.Contains(t, body, "<td>contraseña incorrecta</td>")
	// The action filter is a choice of labels.
	assert.Contains(t, body, `<select name="action" id="audit-action">`)
	assert.Contains(t, body, `<option value="auth.login_failed">Inicio de sesión rechazado</option>`)
	_, body = e.get(c, "/admin/audit?action=auth.login_failed")
	assert.Contains(t, body, `<option value="auth.login_failed" selected>`)

	// The CSV says it in Spanish too, and keeps the code.
	res, body = e.get(c, "/admin/audit.csv?action=auth.login_failed")
	require.Equal(t, http.StatusOK, res.StatusCode)
	rows := readExcelCSV(t, body)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"Inicio de sesión rechazado", "auth.login_failed"}, rows[1][3:5])
	assert.Equal(t, "contraseña incorrecta", rows[1][6])
}

// Issue 15: exports must open as columns in Excel set to es-CL.
func TestCSVForExcelCL(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("XL-001", "Excel", "XL", true)
	now := time.Now()
	called := now.Add(-4*time.Minute - 30*time.Second)
	e.f.Ticket(hqtest.Ticket{Branch: "XL-001", ID: "x1", Service: "C", Number: 1, Status: "serving", Executive: "E1", Counter: 1,
		QueuedAt: now.Add(-5 * time.Minute), CalledAt: &called, StartedAt: &called})
	e.user("xl@bank.cl", "admin", nil, nil)
	c, _ := e.login("xl@bank.cl")
	// The ticket's day is its queueing day at the branch (as hqtest files
	// it), which differs from now's in the minutes after Santiago's midnight.
	day := now.Add(-5 * time.Minute).In(mustLoc(t)).Format(time.DateOnly)
	for _, path := range []string{"/reports.csv?table=summary&branch=XL-001&from=" + day, "/reports.csv?table=heatmap&from=" + day, "/admin/audit.csv"} {
		res, body := e.get(c, path)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		require.True(t, strings.HasPrefix(body, "\xEF\xBB\xBF"), "%s starts with the UTF-8 BOM", path)
		first, _, _ := strings.Cut(strings.TrimPrefix(body, "\xEF\xBB\xBF"), "\r\n")
		assert.Contains(t, first, ";", path)
		assert.NotContains(t, first, ",", path)
	}
	_, body := e.get(c, "/reports.csv?table=summary&branch=XL-001&from="+day)
	row := strings.Split(strings.Split(strings.TrimPrefix(body, "\uFEFF"), "\r\n")[1], ";")
	assert.Equal(t, "XL-001", row[0])
	assert.Regexp(t, `^(29|30|31),[0-9]$`, row[5], "mean wait of 30 s with a decimal comma")
}

// Issue 15: service and executive filters were free text.
func TestReportFiltersAreChoices(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("CH-001", "Choices", "CH", true)
	e.f.Branch("CH-002", "Otra", "OT", true)
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ('CH-001', 'C', 'Caja', 600, 300), ('CH-001', 'P', 'Plataforma', 600, 300), ('CH-002', 'Z', 'Secreto', 600, 300)`,
		`INSERT INTO hq_executives (branch, id, name) VALUES ('CH-001', 'E7', 'Ana Pérez'), ('CH-002', 'E9', 'Oculto')`,
	} {
		_, err := e.f.Pool.Exec(ctx, sql)
		require.NoError(t, err)
	}
	e.user("sup@ch.cl", "supervisor", []string{"CH"}, nil)
	c, _ := e.login("sup@ch.cl")
	res, body := e.get(c, "/reports?service=P&executive=E7")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `<select name="service" id="report-service">`)
	assert.Contains(t, body, `<option value="C">C · Caja</option>`)
	assert.Contains(t, body, `<option value="P" selected>P · Plataforma</option>`)
	assert.Contains(t, body, `<select name="executive" id="report-executive">`)
	assert.Contains(t, body, `<option value="E7" selected>E7 · Ana Pérez</option>`)
	assert.NotContains(t, body, "Secreto", "a service of a branch outside the supervisor's regions")
	assert.NotContains(t, body, "Oculto")
	assert.NotContains(t, body, `<input name="service"`)

	// Grouped by service or executive, rows carry the names.
	now := time.Now()
	e.f.Ticket(hqtest.Ticket{Branch: "CH-001", ID: "ch1", Service: "P", Number: 1, QueuedAt: now.Add(-time.Minute)})
	day := now.In(mustLoc(t)).Format(time.DateOnly)
	_, body = e.get(c, "/reports?group=service&from="+day)
	has(t, body, `<tr><td>P · Plataforma</td><td>1</td>`)
}

// readExcelCSV reads an export as Excel set to es-CL does: BOM, ';'.
func readExcelCSV(t *testing.T, body string) [][]string {
	t.Helper()
	require.True(t, strings.HasPrefix(body, "\uFEFF"), "starts with the UTF-8 BOM")
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	require.NoError(t, err)
	return rows
}

// Issue 15: the branch view put 621 tickets on one 18,937 px page, with seq
// numbers in the timeline.
func TestBranchViewPagesAndSearch(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("PG-001", "Paginada", "PG", true)
	ctx := context.Background()
	_, err := e.f.Pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ('PG-001', 'C', 'Caja', 600, 300), ('PG-001', 'E', 'Empresas', 600, 300)`)
	require.NoError(t, err)
	_, err = e.f.Pool.Exec(ctx, `INSERT INTO hq_executives (branch, id, name) VALUES ('PG-001', 'E1', 'Ana')`)
	require.NoError(t, err)
	loc := mustLoc(t)
	now := time.Now()
	start := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 1, 0, 0, loc)
	if now.Sub(start) < 2*time.Hour { // keep the whole day behind now
		start = start.Add(-24 * time.Hour)
	}
	day := start.Format(time.DateOnly)
	// 630 tickets in one insert (the fixture's one-by-one events would take
	// long): C-001..C-600 done, E-001..E-030 waiting.
	_, err = e.f.Pool.Exec(ctx, `INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, counter, executive,
			queued_at, created_at, called_at, started_at, ended_at, last_seq)
		SELECT 'PG-001', 'c' || n, $1::date, 'C', n, 'C', 'normal', 'done', 1, 'E1',
			$2::timestamptz + n * interval '1 second', $2::timestamptz + n * interval '1 second',
			$2::timestamptz + n * interval '1 second' + interval '125 seconds', $2::timestamptz + n * interval '1 second' + interval '130 seconds',
			$2::timestamptz + n * interval '1 second' + interval '430 seconds', 0
		FROM generate_series(1, 600) n
		UNION ALL
		SELECT 'PG-001', 'e' || n, $1::date, 'E', n, 'E', 'normal', 'waiting', NULL, NULL,
			$2::timestamptz + interval '1 hour' + n * interval '1 second', $2::timestamptz + interval '1 hour' + n * interval '1 second', NULL, NULL, NULL, 0
		FROM generate_series(1, 30) n`, day, start)
	require.NoError(t, err)
	e.f.Event("PG-001", "ticket.issued", start.Add(97*time.Second), map[string]any{"ticket": "c97", "service": "C", "number": 97, "day": day})
	e.f.Event("PG-001", "ticket.transferred", start.Add(200*time.Second), map[string]any{"ticket": "c97", "service": "C", "number": 97, "day": day, "to": "E"})
	e.f.Event("PG-001", "ticket.called", start.Add(222*time.Second), map[string]any{"ticket": "c97", "service": "E", "number": 97, "day": day, "counter": 3, "executive": "E1"})
	e.user("sup@pg.cl", "supervisor", []string{"PG"}, nil)
	c, _ := e.login("sup@pg.cl")

	rowRE := regexp.MustCompile(`<td class="number">([^<]+)</td>`)
	res, body := e.get(c, "/branches/PG-001?day="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Len(t, rowRE.FindAllString(body, -1), 50, "one page of 50")
	has(t, body, "(630)")
	has(t, body, "Página 1 de 13")
	has(t, body, `<a rel="next" id="page-next" href="?day=`+day+`&amp;page=2#tickets">`)
	hasNot(t, body, `rel="prev"`)
	has(t, body, `<td>C · Caja</td>`, "service names")
	has(t, body, `<td class="wait">2:05</td><td class="service-time">5:00</td>`)

	_, body = e.get(c, "/branches/PG-001?day="+day+"&page=13")
	assert.Len(t, rowRE.FindAllString(body, -1), 30)
	has(t, body, `rel="prev"`)
	hasNot(t, body, `rel="next"`)

	// Search by number, with or without letter, dash or zeros.
	for _, q := range []string{"C-097", "c97", "C 97"} {
		_, body = e.get(c, "/branches/PG-001?day="+day+"&q="+url.QueryEscape(q))
		assert.Equal(t, [][]string{{`<td class="number">C-097</td>`, "C-097"}}, rowRE.FindAllStringSubmatch(body, -1), q)
	}
	// Its timeline: names, counter and executive, not "#97".
	has(t, body, "derivado · E Empresas")
	has(t, body, "llamado · Módulo 3 · E1 Ana")
	has(t, body, "<td>E1 Ana</td>")
	hasNot(t, body, "<small>#")
	_, body = e.get(c, "/branches/PG-001?day="+day+"&q=5")
	assert.Len(t, rowRE.FindAllString(body, -1), 2, "C-005 and E-005")

	// Filters as choices, and applied.
	has(t, body, `<select name="service" id="ticket-service">`)
	has(t, body, `<option value="E">E · Empresas</option>`)
	has(t, body, `<select name="status" id="ticket-status">`)
	_, body = e.get(c, "/branches/PG-001?day="+day+"&status=waiting&service=E")
	assert.Len(t, rowRE.FindAllString(body, -1), 30)
	has(t, body, "Página 1 de 1")
	has(t, body, `<option value="waiting" selected>`)
	_, body = e.get(c, "/branches/PG-001?day="+day+"&service=C&page=2&per=100")
	assert.Len(t, rowRE.FindAllString(body, -1), 100)
	has(t, body, `href="?day=`+day+`&amp;page=3&amp;per=100&amp;service=C#tickets"`)

	// The JSON API pages the same way.
	res, body = e.get(c, "/hq/v1/branches/PG-001?day="+day+"&q=E-5")
	require.Equal(t, http.StatusOK, res.StatusCode)
	has(t, body, `"total":1`)
	has(t, body, `"display":"E-005"`)

	// Bad parameters: 400 with a reason, never 500.
	for path, want := range map[string]string{
		"page=0": "no es válida", "page=abc": "no es válida", "page=99": "no existe: hay 13", "page=99999999999999999999": "no es válida",
		"per=100000": "por página", "status=lost": "no existe", "q=DROP": "no es un número de atención",
		"q=%00": "caracteres no válidos", "service=%FF": "caracteres no válidos",
	} {
		res, body := e.get(c, "/branches/PG-001?day="+day+"&"+path)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, path)
		has(t, html.UnescapeString(body), want, path)
	}
	res, body = e.get(c, "/hq/v1/branches/PG-001?page=-1")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	has(t, body, `"code":"hq.page.invalid"`)

	// Scope: a supervisor of another region gets nothing of it.
	e.user("sup@ot.cl", "supervisor", []string{"OT"}, nil)
	c2, _ := e.login("sup@ot.cl")
	res, _ = e.get(c2, "/branches/PG-001?q=C-097")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}

// has and hasNot check a page for a string without printing the page.
func has(t *testing.T, body, s string, msg ...any) {
	t.Helper()
	assert.True(t, strings.Contains(body, s), "page lacks %q %v", s, msg)
}

func hasNot(t *testing.T, body, s string, msg ...any) {
	t.Helper()
	assert.False(t, strings.Contains(body, s), "page has %q %v", s, msg)
}

// Issue 15: the overview had no national or regional totals.
func TestOverviewTotalsEqualTiles(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	for i, b := range []struct{ id, region string }{{"TO-001", "TRM"}, {"TO-002", "TRM"}, {"TO-003", "TV"}, {"TO-004", "TV"}, {"TO-005", "TBB"}} {
		e.f.Branch(b.id, "Sucursal "+b.id, b.region, true)
		for n := range i + 1 { // 1..5 waiting, the first of each 25 min (past the 10 min target)
			e.f.Ticket(hqtest.Ticket{Day: today(t), Branch: b.id, ID: b.id + "-" + strconv.Itoa(n), Service: "C", Number: n + 1, QueuedAt: now.Add(-time.Duration(25-n) * time.Minute)})
		}
		called := now.Add(-time.Minute)
		e.f.Ticket(hqtest.Ticket{Day: today(t), Branch: b.id, ID: b.id + "-c", Service: "C", Number: 99, Status: "called", Executive: "E1", Counter: 1,
			QueuedAt: now.Add(-3 * time.Minute), CalledAt: &called})
	}
	_, err := e.f.Pool.Exec(context.Background(), `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ('TO-003', 'C', 'Caja <rápida>', 600, 300)`)
	require.NoError(t, err)
	e.f.Sync("TO-002", false, 0, now.Add(-10*time.Minute))
	e.f.Sync("TO-005", false, 0, now.Add(-10*time.Minute))
	// A supervisor of these regions (other tests' branches share the database).
	e.user("to@bank.cl", "supervisor", []string{"TRM", "TV", "TBB"}, nil)
	c, _ := e.login("to@bank.cl")
	res, body := e.get(c, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)

	type sum struct{ branches, waiting, over, decided, within, offline int }
	tiles := map[string]*sum{}
	tileRE := regexp.MustCompile(`<article class="tile([^"]*)" id="tile-[^"]+" data-branch="[^"]+" data-region="([^"]*)" data-waiting="(\d+)" data-decided="(\d+)" data-within="(\d+)" data-over="(\d+)">`)
	atoi := func(s string) int { n, err := strconv.Atoi(s); require.NoError(t, err); return n }
	for _, m := range tileRE.FindAllStringSubmatch(body, -1) {
		for _, k := range []string{"", "r:" + m[2]} {
			s := tiles[k]
			if s == nil {
				s = &sum{}
				tiles[k] = s
			}
			s.branches++
			s.waiting += atoi(m[3])
			s.decided += atoi(m[4])
			s.within += atoi(m[5])
			s.over += atoi(m[6])
			if strings.Contains(m[1], "off") {
				s.offline++
			}
		}
	}
	require.Equal(t, 5, tiles[""].branches)
	require.Equal(t, 15, tiles[""].waiting)
	require.Equal(t, 2, tiles[""].offline)

	rowRE := regexp.MustCompile(`<tr (?:class="national" data-national="1"|data-region="([^"]*)")><th>(?:<a [^>]+>)?([^<]+)(?:</a>)?</th><td data-k="branches">(\d+)</td><td data-k="waiting">(\d+)</td><td data-k="over">(\d+)</td><td data-k="sla">([^<]+)</td><td data-k="offline"[^>]*>(\d+)</td></tr>`)
	rows := rowRE.FindAllStringSubmatch(body, -1)
	require.Len(t, rows, 4, "national, then TBB, TRM, TV")
	assert.Equal(t, "Nacional", rows[0][2])
	assert.Equal(t, []string{"TBB", "TRM", "TV"}, []string{rows[1][1], rows[2][1], rows[3][1]})
	for i, r := range rows {
		key := ""
		if i > 0 {
			key = "r:" + r[1]
		}
		s := tiles[key]
		require.NotNil(t, s, key)
		assert.Equal(t, s.branches, atoi(r[3]), "branches %s", key)
		assert.Equal(t, s.waiting, atoi(r[4]), "waiting %s", key)
		assert.Equal(t, s.over, atoi(r[5]), "over target %s", key)
		assert.Equal(t, s.offline, atoi(r[7]), "offline %s", key)
		require.Positive(t, s.decided)
		want := strings.Replace(strconv.FormatFloat(float64(int(float64(s.within)*1000/float64(s.decided)+0.5))/10, 'f', 1, 64), ".", ",", 1) + "%"
		assert.Equal(t, want, r[6], "SLA %s", key)
	}
	// TRM: 1 + 2 waiting, TO-002 offline.
	assert.Equal(t, []string{"2", "3", "1"}, []string{rows[2][3], rows[2][4], rows[2][7]})

	// Services by name on each tile (the code when HQ has no name for it).
	has(t, body, `<span class="queue" title="C">Caja &lt;rápida&gt; <b>3</b></span>`)
	has(t, body, `<span class="queue" title="C">C <b>2</b></span>`)

	// Filtered by region: the first row totals what is shown.
	_, body = e.get(c, "/?region=TV")
	rows = rowRE.FindAllStringSubmatch(body, -1)
	require.Len(t, rows, 2)
	assert.Equal(t, "Total", rows[0][2])
	assert.Equal(t, "7", rows[0][4], "3 + 4 waiting in TV")
}

// Issue 15 (axe, critical): the users page's per-user password inputs had no
// accessible name. Every visible input and select of the HQ pages touched here
// is inside a <label> or names itself with aria-label.
func TestFormFieldsLabelled(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("LB-001", "Etiquetas", "LB", true)
	e.user("lb@bank.cl", "admin", nil, nil)
	e.user("other@bank.cl", "viewer", nil, nil)
	c, _ := e.login("lb@bank.cl")
	for _, path := range []string{"/admin/users", "/admin/audit", "/reports", "/branches/LB-001", "/"} {
		_, body := e.get(c, path)
		assertLabelled(t, path, body)
	}
	_, body := e.get(c, "/admin/users")
	has(t, body, `aria-label="Nueva contraseña para other@bank.cl"`)
}

var formField = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)

// assertLabelled checks that every visible input, select and textarea of a
// page is inside a <label> or names itself with aria-label.
func assertLabelled(t *testing.T, path, body string) {
	t.Helper()
	open := 0 // <label> elements open at each field
	last := 0
	for _, loc := range formField.FindAllStringIndex(body, -1) {
		seg := body[last:loc[0]]
		open += strings.Count(seg, "<label") - strings.Count(seg, "</label>")
		last = loc[0]
		tag := body[loc[0]:loc[1]]
		if strings.Contains(tag, `type="hidden"`) {
			continue
		}
		assert.True(t, open > 0 || strings.Contains(tag, "aria-label="), "%s: %s has no label", path, tag)
	}
}

// today is the branch's business day now; fixtures file their tickets on it
// so a test run in the minutes after Santiago's midnight still finds them.
func today(t *testing.T) string { return time.Now().In(mustLoc(t)).Format(time.DateOnly) }
