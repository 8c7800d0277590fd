package web_test

import (
	"context"
	"encoding/csv"
	"html"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
)

// auditActionsInCode greps every non-test Go file of the cloud module for the
// audit actions it writes: the Audit* constants (hq, retention), the string
// literals handed to an audit writer (enroll), and the branch security events
// the ingest copies into the audit (their event type is the action).
func auditActionsInCode(t *testing.T) []string {
	t.Helper()
	constRE := regexp.MustCompile(`(?m)^\s*(?:const\s+)?(Audit\w*)\s*=\s*"([^"]+)"`)
	callRE := regexp.MustCompile(`(?m)\baudit\(ctx,.*$`)
	litRE := regexp.MustCompile(`"([a-z]+\.[a-z_]+)"`)
	fieldRE := regexp.MustCompile(`Action:\s*"([^"]+)"`)
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
		case *event.SignIn, *event.Admin: // cloud/postgres/audit.go
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
	for _, want := range []string{hq.AuditLogin, hq.AuditLoginFailed, hq.AuditCSRF, "personal.anonymise", "enroll.code_used", "executive.login_failed", "executive.admin"} {
		require.Contains(t, actions, want, "the grep finds every kind of writer")
	}
	for _, a := range actions {
		assert.True(t, i18n.Has("hq.audit.act."+a), "audit action %q has no label in the catalogue", a)
	}

	e := newEnv(t)
	e.user("aud@bank.cl", "admin", nil, nil)
	ctx := context.Background()
	for _, a := range actions {
		require.NoError(t, e.store.Audit(ctx, hq.AuditEntry{Actor: "x", Action: a, Detail: "hq.login.failed"}))
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
	assert.Equal(t, "Inicio de sesión rechazado", shown[hq.AuditLoginFailed])
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
	day := now.In(mustLoc(t)).Format(time.DateOnly)
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
