package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/openapitest"
)

// apiEnv calls the configuration API, checking every answer against its
// OpenAPI document: status and media type (openapitest) and the JSON body's
// schema (schemaDoc).
type apiEnv struct {
	*env
	doc    *openapitest.Doc
	schema *schemaDoc
	c      *http.Client
}

func newAPIEnv(t *testing.T, mutate ...func(*web.Config)) *apiEnv {
	t.Helper()
	e := newEnv(t, mutate...)
	res, err := http.Get(e.srv.URL + "/api/v1/config/openapi.json")
	require.NoError(t, err)
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := openapitest.MustParse(t, raw)
	return &apiEnv{env: e, doc: doc, schema: parseSchemaDoc(t, raw), c: &http.Client{Transport: openapitest.Transport{Doc: doc, T: t}}}
}

// token makes an API token as the users page does.
func (a *apiEnv) token(name string, role cloud.Role, regions, branches []string) string {
	a.t.Helper()
	tok, err := a.store.CreateAPIToken(context.Background(), cloud.NewToken{Name: name, Role: role, Regions: regions, Branches: branches, CreatedBy: "admin@bank.cl"})
	require.NoError(a.t, err)
	return tok
}

// apiAnswer is a decoded answer.
type apiAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is the answer's problem+json code and detail.
func (r apiAnswer) problem(t *testing.T) (code, detail string) {
	t.Helper()
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "%s", r.Body)
	var p struct{ Code, Detail string }
	require.NoError(t, json.Unmarshal(r.Body, &p))
	return p.Code, p.Detail
}

func (r apiAnswer) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "%s", r.Body)
}

// call sends method path with a JSON body (a string is sent as is) and the
// token (none when empty), then hdr pairs.
func (a *apiEnv) call(tok, method, path string, body any, hdr ...string) apiAnswer {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(a.t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	require.NoError(a.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := a.c.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	u, _ := url.Parse(path)
	a.schema.checkBody(a.t, method, u.Path, res.StatusCode, b)
	return apiAnswer{Status: res.StatusCode, Header: res.Header, Body: b}
}

type draftJSON struct {
	Branch struct {
		ID, Name, Region string
	}
	OpeningHours string `json:"opening_hours"`
	Rules        struct {
		PreferentialRatio  int                    `json:"preferential_ratio"`
		RecallLimit        int                    `json:"recall_limit"`
		PreNoticeAhead     int                    `json:"pre_notice_ahead"`
		PreNoticeByService map[string]int         `json:"pre_notice_by_service"`
		Appointments       event.AppointmentRules `json:"appointments"`
	}
	Services []struct {
		Code, Name   string
		TargetWaitS  int `json:"target_wait_s"`
		MeanServiceS int `json:"mean_service_s"`
		Priority     int
	}
	Counters []struct {
		Number int
		Name   string
	}
	Executives []struct {
		ID, Name string
		Services []string
	}
	Hours struct {
		WeeklyHours   map[string]string `json:"weekly_hours"`
		CloseGraceMin *int              `json:"close_grace_min"`
		LastTicket    map[string]string `json:"last_ticket"`
	}
	PublishedVersion int64 `json:"published_version"`
}

// TestConfigAPIContract walks every operation of the configuration API with
// an admin token, as a bank's tool would set up and publish a branch, plus
// the refusals each documents; every answer is checked against the OpenAPI
// document served at /api/v1/config/openapi.json, and every operation must
// have been exercised.
func TestConfigAPIContract(t *testing.T) {
	a := newAPIEnv(t)
	admin := a.token("inventario", cloud.RoleAdmin, nil, nil)
	viewer := a.token("tablero", cloud.RoleViewer, nil, nil)

	// A new branch is created (201), then updated (200).
	branch := map[string]any{"name": "Contrato Centro", "region": "CT", "time_zone": "America/Santiago", "opening_hours": "09:00-14:00"}
	require.Equal(t, http.StatusCreated, a.call(admin, "PUT", "/api/v1/config/branches/CT-001", branch).Status)
	branch["name"] = "Contrato Centro Norte"
	res := a.call(admin, "PUT", "/api/v1/config/branches/CT-001", branch)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var d draftJSON
	res.decode(t, &d)
	assert.Equal(t, "Contrato Centro Norte", d.Branch.Name)
	assert.Equal(t, "CT", d.Branch.Region)

	// Services, counters, executives, rules, hours.
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/CT-001/services/C", map[string]any{"name": "Caja", "target_wait_s": 600, "mean_service_s": 300, "priority": 1}).Status)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/CT-001/services/p", map[string]any{"name": "Plataforma", "target_wait_s": 900, "mean_service_s": 600}).Status)
	res = a.call(admin, "PATCH", "/api/v1/config/branches/CT-001/services/C", map[string]any{"target_wait_s": 480})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &d)
	require.Len(t, d.Services, 2)
	assert.Equal(t, "Caja", d.Services[0].Name, "a patch keeps what it does not name")
	assert.Equal(t, 480, d.Services[0].TargetWaitS)
	assert.Equal(t, 300, d.Services[0].MeanServiceS)
	assert.Equal(t, "P", d.Services[1].Code, "codes are upper case, as on the page")
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/CT-001/counters/1", map[string]any{"name": "Módulo 1"}).Status)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/CT-001/counters/2", map[string]any{"name": "Módulo 2"}).Status)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/CT-001/executives/E01", map[string]any{"name": "Ana Pérez", "services": []string{"C", "P"}}).Status)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/CT-001/executives/E02", map[string]any{"name": "Luis Soto", "services": []string{"c"}}).Status)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/CT-001/rules", map[string]any{"preferential_ratio": 2, "recall_limit": 3, "pre_notice_ahead": 4, "pre_notice_by_service": map[string]int{"P": 1}}).Status)
	res = a.call(admin, "PATCH", "/api/v1/config/branches/CT-001/rules", map[string]any{"recall_limit": 1})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &d)
	assert.Equal(t, 2, d.Rules.PreferentialRatio, "a patch keeps the other rules")
	assert.Equal(t, 1, d.Rules.RecallLimit)
	assert.Equal(t, map[string]int{"P": 1}, d.Rules.PreNoticeByService, "and the overrides")
	res = a.call(admin, "PATCH", "/api/v1/config/branches/CT-001/rules", map[string]any{"appointments": map[string]any{"run_max": 1, "remote": map[string]any{"C": map[string]any{"open": true, "cap": 4}}}})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &d)
	assert.Equal(t, event.AppointmentRules{RunMax: 1, Remote: map[string]event.RemoteRule{"C": {Open: true, Cap: 4}}}, d.Rules.Appointments)
	assert.Equal(t, 1, d.Rules.RecallLimit, "the calling rules kept")
	res = a.call(admin, "PUT", "/api/v1/config/branches/CT-001/rules", map[string]any{"preferential_ratio": 2, "recall_limit": 1, "pre_notice_ahead": 4, "pre_notice_by_service": map[string]int{"P": 1}})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &d)
	assert.Equal(t, 1, d.Rules.Appointments.RunMax, "absent appointments stay as they are")
	res = a.call(admin, "PUT", "/api/v1/config/branches/CT-001/hours", map[string]any{"weekly_hours": map[string]string{"sat": "", "fri": "09:00-13:00"}, "close_grace_min": 20, "last_ticket": map[string]string{"p": "30"}})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &d)
	assert.Equal(t, map[string]string{"sat": "", "fri": "09:00-13:00"}, d.Hours.WeeklyHours)
	assert.Equal(t, map[string]string{"P": "30"}, d.Hours.LastTicket)
	require.NotNil(t, d.Hours.CloseGraceMin)
	assert.Equal(t, 20, *d.Hours.CloseGraceMin)

	// Network-wide: outcome codes and holidays (shared with other tests of
	// the package: removed at the end).
	year := time.Now().In(mustLoc(t)).Year() + 1
	date := strconv.Itoa(year) + "-09-18"
	t.Cleanup(func() {
		ctx := context.Background()
		for _, o := range []string{"venta", "reclamo"} {
			_ = a.store.DeleteOutcome(ctx, o)
		}
		for _, d := range []string{date, strconv.Itoa(year) + "-12-25"} {
			_ = a.store.DeleteHoliday(ctx, d)
		}
	})
	res = a.call(admin, "PUT", "/api/v1/config/outcomes/venta", map[string]any{"name": "Venta"})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/outcomes/reclamo", map[string]any{"name": "Reclamo"}).Status)
	var outs struct{ Outcomes []struct{ Code, Name string } }
	res = a.call(viewer, "GET", "/api/v1/config/outcomes", nil)
	res.decode(t, &outs)
	assert.Contains(t, outs.Outcomes, struct{ Code, Name string }{"venta", "Venta"})
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/holidays/"+date, map[string]any{"name": "Fiestas Patrias"}).Status)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/holidays/"+strconv.Itoa(year)+"-12-25", map[string]any{"name": "Navidad"}).Status)
	var hols struct {
		Year     int
		Holidays []struct{ Date, Name string }
	}
	a.call(viewer, "GET", "/api/v1/config/holidays?year="+strconv.Itoa(year), nil).decode(t, &hols)
	assert.Equal(t, year, hols.Year)
	require.Len(t, hols.Holidays, 2)
	assert.Equal(t, "Fiestas Patrias", hols.Holidays[0].Name)

	// Reads: the list, the draft, the review; then the publication.
	var list struct {
		Branches []struct {
			ID               string
			Region           string
			PublishedVersion int64 `json:"published_version"`
		}
	}
	a.call(viewer, "GET", "/api/v1/config/branches", nil).decode(t, &list)
	require.NotEmpty(t, list.Branches)
	assert.Equal(t, 200, a.call(viewer, "GET", "/api/v1/config/branches/CT-001", nil).Status)
	var diff struct {
		Changes     map[string][]struct{ Kind, Key string }
		Publishable bool
		Running     struct{ Source string }
	}
	a.call(viewer, "GET", "/api/v1/config/branches/CT-001/diff", nil).decode(t, &diff)
	assert.True(t, diff.Publishable)
	assert.Len(t, diff.Changes["services"], 2)
	res = a.call(admin, "POST", "/api/v1/config/branches/CT-001/publish", nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var pub struct {
		Version     int64
		PublishedBy string `json:"published_by"`
	}
	res.decode(t, &pub)
	assert.Equal(t, int64(1), pub.Version)
	assert.Equal(t, "token:inventario", pub.PublishedBy)
	a.pub.mu.Lock()
	require.Len(t, a.pub.got, 1, "sent to the branch")
	sent := a.pub.got[0]
	a.pub.mu.Unlock()
	assert.Equal(t, "CT-001", sent.Branch)
	assert.Len(t, sent.Services, 2)
	assert.Len(t, sent.Executives, 2)
	assert.Equal(t, "Contrato Centro Norte", sent.BranchName)
	assert.Equal(t, 2, sent.Rules.PreferentialRatio)
	assert.Contains(t, sent.Outcomes, queue.Outcome{Code: "venta", Name: "Venta"})
	assert.Equal(t, "30", sent.Hours.LastTicket["P"])
	a.call(viewer, "GET", "/api/v1/config/branches", nil).decode(t, &list)
	for _, b := range list.Branches {
		if b.ID == "CT-001" {
			assert.Equal(t, int64(1), b.PublishedVersion)
			assert.Equal(t, "CT", b.Region)
		}
	}

	// Deletions.
	assert.Equal(t, 204, a.call(admin, "DELETE", "/api/v1/config/branches/CT-001/counters/2", nil).Status)
	assert.Equal(t, 204, a.call(admin, "DELETE", "/api/v1/config/branches/CT-001/executives/E02", nil).Status)
	assert.Equal(t, 204, a.call(admin, "DELETE", "/api/v1/config/branches/CT-001/services/P", nil).Status)
	assert.Equal(t, 204, a.call(admin, "DELETE", "/api/v1/config/outcomes/reclamo", nil).Status)
	assert.Equal(t, 204, a.call(admin, "DELETE", "/api/v1/config/holidays/"+date, nil).Status)
	a.call(viewer, "GET", "/api/v1/config/branches/CT-001", nil).decode(t, &d)
	assert.Len(t, d.Services, 1)
	assert.Len(t, d.Counters, 1)
	require.Len(t, d.Executives, 1)
	assert.Equal(t, []string{"C"}, d.Executives[0].Services, "P left the executive's list with the service")
	assert.Equal(t, int64(1), d.PublishedVersion)

	// Templates: a region's template, its preview with the guard's verdict
	// per branch, a staged publication confirmed, another cancelled.
	for _, b := range []string{"TT-001", "TT-002"} {
		require.Equal(t, 201, a.call(admin, "PUT", "/api/v1/config/branches/"+b, map[string]any{"name": "Plantilla " + b, "region": "TT", "time_zone": "America/Santiago"}).Status)
		require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/"+b+"/services/C", map[string]any{"name": "Caja", "target_wait_s": 600, "mean_service_s": 300}).Status)
	}
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/TT-002/services/P", map[string]any{"name": "Plataforma", "target_wait_s": 600, "mean_service_s": 300}).Status)
	a.f.Ticket(hqtest.Ticket{Day: today(t), Branch: "TT-002", ID: "tt2-p1", Service: "P", Number: 1, QueuedAt: time.Now().Add(-5 * time.Minute)})
	// Written as the form writes it (its validation and error codes).
	tplBody := map[string]any{"name": "Región TT", "target_kind": "region", "target_value": "TT",
		"services":          []map[string]any{{"code": "C", "name": "Caja rápida", "target_wait_s": 480, "mean_service_s": 240, "priority": 1}},
		"appointment_rules": map[string]any{"run_max": 99}}
	res = a.call(admin, "POST", "/api/v1/config/templates", tplBody)
	require.Equal(t, 400, res.Status, "%s", res.Body)
	code, detail := res.problem(t)
	assert.Equal(t, "hq.appt.invalid", code)
	assert.Equal(t, "Dato no válido en run_max: 0..10.", detail)
	assert.Equal(t, 403, a.call(viewer, "POST", "/api/v1/config/templates", tplBody).Status, "read-only token")
	tplBody["appointment_rules"] = map[string]any{"run_max": 1, "remote": map[string]any{"C": map[string]any{"open": true, "cap": 3}}}
	var tpl struct {
		ID      int64
		Version int
	}
	res = a.call(admin, "POST", "/api/v1/config/templates", tplBody)
	require.Equal(t, 201, res.Status, "%s", res.Body)
	res.decode(t, &tpl)
	assert.Equal(t, 1, tpl.Version)
	code, _ = a.call(admin, "POST", "/api/v1/config/templates", tplBody).problem(t)
	assert.Equal(t, "hq.template.name_taken", code)
	tid := strconv.FormatInt(tpl.ID, 10)
	tplBody["rules"] = map[string]any{"preferential_ratio": 2, "recall_limit": 3, "pre_notice_ahead": 3, "appointments": map[string]any{}}
	code, _ = a.call(admin, "PUT", "/api/v1/config/templates/"+tid, tplBody).problem(t)
	assert.Equal(t, "hq.api.unknown_field", code, "appointment rules go in appointment_rules")
	delete(tplBody, "rules")
	res = a.call(admin, "PUT", "/api/v1/config/templates/"+tid, tplBody)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &tpl)
	assert.Equal(t, 2, tpl.Version)
	code, _ = a.call(admin, "PUT", "/api/v1/config/templates/999999", tplBody).problem(t)
	assert.Equal(t, "hq.template.not_found", code)
	// A branch keeps a part as its own, then gives it up (api_overrides_test.go
	// has the rest).
	var own struct{ Overrides map[string][]string }
	res = a.call(admin, "PUT", "/api/v1/config/templates/"+tid+"/overrides/TT-002", map[string]any{"fields": []string{"service:C"}})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &own)
	assert.Equal(t, map[string][]string{"TT-002": {"service:C"}}, own.Overrides)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/templates/"+tid+"/overrides/TT-002", map[string]any{"fields": []string{}}).Status)
	var tlist struct{ Templates []struct{ ID int64 } }
	a.call(viewer, "GET", "/api/v1/config/templates", nil).decode(t, &tlist)
	require.NotEmpty(t, tlist.Templates)
	var tget struct {
		Rules            *event.Rules            `json:"rules"`
		AppointmentRules *event.AppointmentRules `json:"appointment_rules"`
	}
	a.call(viewer, "GET", "/api/v1/config/templates/"+tid, nil).decode(t, &tget)
	assert.Nil(t, tget.Rules)
	require.NotNil(t, tget.AppointmentRules)
	assert.Equal(t, 1, tget.AppointmentRules.RunMax)
	var prev struct {
		Branches []struct {
			Branch   struct{ ID string }
			Verdict  string
			Stranded []struct{ Code string }
			Changes  map[string][]struct{ Kind, Key, After string }
		}
		Counts map[string]int
	}
	a.call(viewer, "GET", "/api/v1/config/templates/"+tid+"/preview", nil).decode(t, &prev)
	require.Len(t, prev.Branches, 2)
	require.Len(t, prev.Branches[0].Changes["rules"], 2, "appointments and remote:C")
	assert.Equal(t, "remote:C", prev.Branches[0].Changes["rules"][1].Key)
	assert.Equal(t, "fila remota abierta, hasta 3 sin llegar", prev.Branches[0].Changes["rules"][1].After)
	assert.Equal(t, "changing", prev.Branches[0].Verdict)
	assert.Equal(t, "refused", prev.Branches[1].Verdict, "TT-002 would lose P with a customer waiting")
	assert.Equal(t, 1, prev.Counts["refused"])
	var ro struct {
		ID      int64
		Status  string
		Rest    []string
		Results []struct {
			Branch, Outcome, Reason, Detail string
		}
	}
	res = a.call(admin, "POST", "/api/v1/config/templates/"+tid+"/publish", map[string]any{"first_n": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.decode(t, &ro)
	assert.Equal(t, "first_stage", ro.Status)
	assert.Equal(t, []string{"TT-002"}, ro.Rest)
	rid := strconv.FormatInt(ro.ID, 10)
	assert.Equal(t, 200, a.call(viewer, "GET", "/api/v1/config/rollouts/"+rid, nil).Status)
	assert.Equal(t, 409, a.call(admin, "POST", "/api/v1/config/templates/"+tid+"/publish", nil).Status, "one open publication at a time")
	res = a.call(admin, "POST", "/api/v1/config/rollouts/"+rid+"/continue", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &ro)
	assert.Equal(t, "done", ro.Status)
	byBranch := map[string]string{}
	for _, r := range ro.Results {
		byBranch[r.Branch] = r.Outcome
		if r.Branch == "TT-002" {
			assert.Equal(t, "hq.config.strands_service", r.Reason)
			assert.Contains(t, r.Detail, "con 1 en espera")
		}
	}
	assert.Equal(t, map[string]string{"TT-001": "published", "TT-002": "refused"}, byBranch)
	c, err := a.store.BranchConfig(context.Background(), "TT-001")
	require.NoError(t, err)
	assert.Equal(t, "Caja rápida", c.Services[0].Name)
	require.Len(t, c.Versions, 1)
	assert.Equal(t, "token:inventario", c.Versions[0].PublishedBy)
	assert.Equal(t, 409, a.call(admin, "POST", "/api/v1/config/rollouts/"+rid+"/cancel", nil).Status, "a finished publication is closed")
	res = a.call(admin, "POST", "/api/v1/config/templates/"+tid+"/publish", map[string]any{"first_pct": 50})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.decode(t, &ro)
	rid = strconv.FormatInt(ro.ID, 10)
	res = a.call(admin, "POST", "/api/v1/config/rollouts/"+rid+"/cancel", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res.decode(t, &ro)
	assert.Equal(t, "cancelled", ro.Status)
	assert.Equal(t, 409, a.call(admin, "POST", "/api/v1/config/rollouts/"+rid+"/continue", nil).Status)
	assert.Equal(t, 404, a.call(viewer, "GET", "/api/v1/config/templates/999999/preview", nil).Status)
	assert.Equal(t, 404, a.call(viewer, "GET", "/api/v1/config/rollouts/x", nil).Status)
	assert.Equal(t, 400, a.call(admin, "POST", "/api/v1/config/templates/"+tid+"/publish", map[string]any{"first_pct": 500}).Status)

	// Refusals: each has its documented status and a stable code.
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"PUT", "/api/v1/config/branches/CT-001/services/C", `{"name": "Caja",`, 400, "hq.api.body"},
		{"PUT", "/api/v1/config/branches/CT-001/services/C", map[string]any{"name": "Caja", "target_wait_s": 600, "mean_service_s": 300, "colour": "red"}, 400, "hq.api.unknown_field"},
		{"PUT", "/api/v1/config/branches/CT-001/services/C", map[string]any{"name": "Caja"}, 400, "hq.api.field_required"},
		{"PUT", "/api/v1/config/branches/CT-001/services/C", map[string]any{"name": "Caja", "target_wait_s": "diez", "mean_service_s": 300}, 400, "hq.api.field_type"},
		{"PUT", "/api/v1/config/branches/CT-001/services/C", map[string]any{"name": "Ca\u0000ja", "target_wait_s": 600, "mean_service_s": 300}, 400, "hq.input.invalid"},
		{"PUT", "/api/v1/config/branches/CT-001/services/C", `[1]`, 400, "hq.api.object"},
		{"PATCH", "/api/v1/config/branches/CT-001/services/Z", map[string]any{"name": "Zeta"}, 404, "hq.api.service_not_found"},
		{"PUT", "/api/v1/config/branches/NO-404/services/C", map[string]any{"name": "Caja", "target_wait_s": 600, "mean_service_s": 300}, 404, "hq.branch.not_found"},
		{"PUT", "/api/v1/config/branches/CT-001/counters/0", map[string]any{"name": "Cero"}, 400, "hq.counter.invalid"},
		{"PUT", "/api/v1/config/branches/CT-001/counters/uno", map[string]any{"name": "Uno"}, 400, "hq.counter.invalid"},
		{"DELETE", "/api/v1/config/branches/CT-001/counters/uno", nil, 400, "hq.counter.invalid"},
		{"PUT", "/api/v1/config/branches/CT-001/executives/E03", map[string]any{"name": "Eva", "services": []string{"X"}}, 400, "service.unknown"},
		{"PUT", "/api/v1/config/branches/CT-001/executives/E03", map[string]any{"services": []string{"C"}}, 400, "hq.api.field_required"},
		{"PUT", "/api/v1/config/branches/CT-001/rules", map[string]any{"preferential_ratio": 99, "recall_limit": 1, "pre_notice_ahead": 1}, 400, "hq.rules.invalid"},
		{"PUT", "/api/v1/config/branches/CT-001/rules", map[string]any{"recall_limit": 1}, 400, "hq.api.field_required"},
		{"PATCH", "/api/v1/config/branches/CT-001/rules", map[string]any{"pre_notice_by_service": map[string]int{"Q": 1}}, 400, "hq.rules.notice_service_invalid"},
		{"PATCH", "/api/v1/config/branches/CT-001/rules", map[string]any{"appointments": map[string]any{"slide_by": 50}}, 400, "hq.appt.invalid"},
		{"PATCH", "/api/v1/config/branches/CT-001/rules", map[string]any{"appointments": map[string]any{"remote": map[string]any{"Q": map[string]any{"open": true}}}}, 400, "hq.appt.invalid"},
		{"PUT", "/api/v1/config/branches/CT-001/hours", map[string]any{"weekly_hours": map[string]string{"mon": "nueve a cinco"}}, 400, "hq.branch.hours"},
		{"PUT", "/api/v1/config/branches/CT-002", map[string]any{"name": "", "time_zone": "America/Santiago"}, 400, "hq.branch.name"},
		{"PUT", "/api/v1/config/outcomes/venta", map[string]any{"name": ""}, 400, "outcome.invalid"},
		{"DELETE", "/api/v1/config/outcomes/NADA", nil, 404, "hq.outcome.not_found"},
		{"PUT", "/api/v1/config/holidays/2026-02-30", map[string]any{"name": "Nunca"}, 400, "hq.holiday.invalid"},
		{"DELETE", "/api/v1/config/holidays/" + date, nil, 404, "hq.holiday.not_found"},
		{"GET", "/api/v1/config/holidays?year=99", nil, 400, "hq.form.number"},
		{"GET", "/api/v1/config/branches/NO-404", nil, 404, "hq.branch.not_found"},
		{"GET", "/api/v1/config/branches/NO-404/diff", nil, 404, "hq.branch.not_found"},
		{"POST", "/api/v1/config/branches/NO-404/publish", nil, 404, "hq.branch.not_found"},
	} {
		res := a.call(admin, tc.method, tc.path, tc.body)
		if assert.Equal(t, tc.status, res.Status, "%s %s: %s", tc.method, tc.path, res.Body) {
			code, detail := res.problem(t)
			assert.Equal(t, tc.code, code, "%s %s", tc.method, tc.path)
			assert.NotEmpty(t, detail)
		}
	}
	// A body that is not JSON, and one too large (nothing written).
	res = a.call(admin, "PUT", "/api/v1/config/outcomes/X1", "name=Venta", "Content-Type", "application/x-www-form-urlencoded")
	code, _ = res.problem(t)
	assert.Equal(t, "hq.api.content_type", code)
	big := map[string]any{"name": strings.Repeat("a", 2<<20)}
	res = a.call(admin, "PUT", "/api/v1/config/outcomes/X1", big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
	// Unknown paths and methods: the API's 404, never the sign-in page.
	for _, mp := range [][2]string{{"GET", "/api/v1/config/nothing"}, {"POST", "/api/v1/config/branches"}} {
		req, _ := http.NewRequest(mp[0], a.srv.URL+mp[1], nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		assert.Equal(t, 404, r.StatusCode, mp)
		assert.Contains(t, string(b), `"hq.api.not_found"`)
	}

	// The document itself, without a token.
	doc := a.call("", "GET", "/api/v1/config/openapi.json", nil)
	assert.Equal(t, 200, doc.Status)
	assert.Contains(t, string(doc.Body), `"openapi": "3.1.0"`)

	// The token and scope refusals (TestConfigAPITokenScope has the rest).
	assert.Equal(t, 401, a.call("", "GET", "/api/v1/config/branches", nil).Status)
	assert.Equal(t, 403, a.call(viewer, "PUT", "/api/v1/config/branches/CT-001/services/C", map[string]any{"name": "Caja", "target_wait_s": 1, "mean_service_s": 1}).Status)
	for _, op := range a.doc.Ops() {
		if op.Method != "GET" || strings.Contains(op.Path, "openapi") {
			continue
		}
		path := strings.NewReplacer("{id}", "CT-001").Replace(op.Path)
		assert.Equal(t, 401, a.call("tkt_nope", op.Method, path, nil).Status, op.String())
	}
	assert.Empty(t, a.doc.Unexercised(), "every documented operation is exercised")
}

// TestConfigAPITokenScope: a token is scoped like a user: a supervisor
// token reads its region's branches only and writes nothing (403 with a
// code, audited, nothing written); an expired or revoked token is refused
// (401); problems speak Spanish unless asked for English.
func TestConfigAPITokenScope(t *testing.T) {
	a := newAPIEnv(t)
	ctx := context.Background()
	a.f.Branch("SC-001", "Scope Uno", "SR", true)
	a.f.Branch("SC-002", "Scope Dos", "SX", true)
	sup := a.token("regional", cloud.RoleSupervisor, []string{"SR"}, nil)

	var list struct{ Branches []struct{ ID string } }
	a.call(sup, "GET", "/api/v1/config/branches", nil).decode(t, &list)
	var ids []string
	for _, b := range list.Branches {
		ids = append(ids, b.ID)
	}
	assert.Contains(t, ids, "SC-001")
	assert.NotContains(t, ids, "SC-002", "outside the token's regions")
	assert.Equal(t, 200, a.call(sup, "GET", "/api/v1/config/branches/SC-001", nil).Status)
	code, _ := a.call(sup, "GET", "/api/v1/config/branches/SC-002/diff", nil).problem(t)
	assert.Equal(t, "hq.branch.forbidden", code)
	code, _ = a.call(sup, "GET", "/api/v1/config/templates", nil).problem(t)
	assert.Equal(t, "hq.api.templates_scope", code, "templates span branches beyond its scope")

	// A read-only token cannot write: 403 hq.api.read_only, nothing written,
	// the refusal audited with the token as actor.
	res := a.call(sup, "PUT", "/api/v1/config/branches/SC-001/services/C", map[string]any{"name": "Caja", "target_wait_s": 600, "mean_service_s": 300})
	require.Equal(t, http.StatusForbidden, res.Status)
	code, detail := res.problem(t)
	assert.Equal(t, "hq.api.read_only", code)
	assert.Contains(t, detail, "solo lectura")
	res = a.call(sup, "POST", "/api/v1/config/branches/SC-001/publish", nil, "Accept-Language", "en")
	require.Equal(t, http.StatusForbidden, res.Status)
	_, detail = res.problem(t)
	assert.Contains(t, detail, "read-only")
	c, err := a.store.BranchConfig(ctx, "SC-001")
	require.NoError(t, err)
	assert.Empty(t, c.Services, "nothing written")
	assert.Empty(t, c.Versions, "nothing published")
	denied := a.audited(cloud.AuditDenied, "token:regional")
	require.NotEmpty(t, denied)
	assert.Contains(t, denied[0].Detail, "hq.api.read_only")

	// No token, a session cookie instead of one, an unknown one.
	code, detail = a.call("", "GET", "/api/v1/config/branches", nil).problem(t)
	assert.Equal(t, "hq.api.token_required", code)
	assert.Contains(t, detail, "Authorization: Bearer")
	a.user("admin@scope.cl", "admin", nil, nil)
	cookieClient, _ := a.login("admin@scope.cl")
	r, body := a.get(cookieClient, "/api/v1/config/branches")
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "an admin's session is no API token: %s", body)
	code, _ = a.call(sup+"x", "GET", "/api/v1/config/branches", nil).problem(t)
	assert.Equal(t, "hq.token.invalid", code)

	// Expired: made by a store whose clock is three days back, for one day.
	back := hq.New(a.store.Pool(), func() time.Time { return time.Now().Add(-72 * time.Hour) })
	old, err := back.CreateAPIToken(ctx, cloud.NewToken{Name: "vencido", Role: cloud.RoleAdmin, ExpiresAt: time.Now().Add(-48 * time.Hour)})
	require.NoError(t, err)
	res = a.call(old, "GET", "/api/v1/config/branches", nil)
	require.Equal(t, http.StatusUnauthorized, res.Status)
	code, detail = res.problem(t)
	assert.Equal(t, "hq.token.expired", code)
	assert.Contains(t, detail, "expiró")
	fresh, err := a.store.CreateAPIToken(ctx, cloud.NewToken{Name: "vigente", Role: cloud.RoleViewer, ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, 200, a.call(fresh, "GET", "/api/v1/config/branches", nil).Status, "until its expiry")

	// Revoked.
	tokens, err := a.store.Tokens(ctx)
	require.NoError(t, err)
	for _, tk := range tokens {
		if tk.Name == "regional" {
			require.NotNil(t, tk.LastUsedAt, "last use recorded")
			_, err := a.store.RevokeToken(ctx, tk.ID)
			require.NoError(t, err)
		}
	}
	code, _ = a.call(sup, "GET", "/api/v1/config/branches", nil).problem(t)
	assert.Equal(t, "hq.token.invalid", code)

	// Expiry is validated when the token is made.
	for _, exp := range []time.Time{time.Now().Add(-time.Minute), time.Now().Add(3 * 366 * 24 * time.Hour)} {
		_, err := a.store.CreateAPIToken(ctx, cloud.NewToken{Name: "mal", Role: cloud.RoleViewer, ExpiresAt: exp})
		assert.ErrorContains(t, err, "hq.token.expiry")
	}
}

// TestConfigAPIGuardAndAudit: the API publishes under the pages' guard — a
// publication that removes a service people wait for is refused with 409
// hq.config.strands_service and a Spanish message naming it, nothing is
// published — and every write is audited with the token's name as actor.
func TestConfigAPIGuardAndAudit(t *testing.T) {
	a := newAPIEnv(t)
	admin := a.token("ci", cloud.RoleAdmin, nil, nil)
	require.Equal(t, 201, a.call(admin, "PUT", "/api/v1/config/branches/GD-001", map[string]any{"name": "Guardia", "region": "GD", "time_zone": "America/Santiago"}).Status)
	for _, code := range []string{"C", "P"} {
		require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/GD-001/services/"+code, map[string]any{"name": map[string]string{"C": "Caja", "P": "Plataforma"}[code], "target_wait_s": 600, "mean_service_s": 300}).Status)
	}
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/GD-001/executives/E01", map[string]any{"name": "Ana", "services": []string{"C", "P"}}).Status)
	require.Equal(t, 201, a.call(admin, "POST", "/api/v1/config/branches/GD-001/publish", nil).Status)
	now := time.Now()
	for n := 1; n <= 3; n++ {
		a.f.Ticket(hqtest.Ticket{Day: today(t), Branch: "GD-001", ID: "gd-p" + strconv.Itoa(n), Service: "P", Number: n, QueuedAt: now.Add(-time.Duration(10-n) * time.Minute)})
	}

	// Removing P from the draft is a draft change; publishing it is refused.
	require.Equal(t, 204, a.call(admin, "DELETE", "/api/v1/config/branches/GD-001/services/P", nil).Status)
	var diff struct {
		Publishable bool
		Stranded    []struct {
			Code    string
			Waiting int
			Removed bool
		}
	}
	a.call(admin, "GET", "/api/v1/config/branches/GD-001/diff", nil).decode(t, &diff)
	assert.False(t, diff.Publishable)
	require.Len(t, diff.Stranded, 1)
	assert.Equal(t, "P", diff.Stranded[0].Code)
	assert.Equal(t, 3, diff.Stranded[0].Waiting)
	assert.True(t, diff.Stranded[0].Removed)
	res := a.call(admin, "POST", "/api/v1/config/branches/GD-001/publish", nil)
	require.Equal(t, http.StatusConflict, res.Status)
	code, detail := res.problem(t)
	assert.Equal(t, "hq.config.strands_service", code)
	assert.Contains(t, detail, "quita el servicio P (P), con 3 en espera")
	c, err := a.store.BranchConfig(context.Background(), "GD-001")
	require.NoError(t, err)
	require.Len(t, c.Versions, 1, "nothing published")

	// The page refuses the same publication the same way.
	a.user("admin@guard.cl", "admin", nil, nil)
	cl, csrf := a.login("admin@guard.cl")
	r, page := a.post(cl, "/config/branches/GD-001/publish", url.Values{"csrf": {csrf}, "confirm": {"1"}})
	assert.Equal(t, http.StatusConflict, r.StatusCode)
	assert.Contains(t, page, "quita el servicio P (P), con 3 en espera")

	// Putting P back makes it publishable again.
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/GD-001/services/P", map[string]any{"name": "Plataforma", "target_wait_s": 600, "mean_service_s": 300}).Status)
	require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/GD-001/executives/E01", map[string]any{"name": "Ana", "services": []string{"C", "P"}}).Status)
	require.Equal(t, 201, a.call(admin, "POST", "/api/v1/config/branches/GD-001/publish", nil).Status)

	// Every write is in the audit, with the token's name as actor.
	changes := a.audited(cloud.AuditConfigChange, "token:ci")
	assert.Len(t, changes, 7, "branch, two services, executive, deletion, service and executive again")
	var details []string
	for _, e := range changes {
		details = append(details, e.Detail)
		assert.Equal(t, "branch:GD-001", e.Target)
	}
	assert.Contains(t, details, "delete service P")
	pubs := a.audited(cloud.AuditConfigPublish, "token:ci")
	require.Len(t, pubs, 2, "the refused publication is not one")
	assert.Contains(t, pubs[0].Detail+pubs[1].Detail, "version 2: services")
}

// TestConfigAPIRateLimit: each token has its own budget (429 with
// Retry-After and a code past it, other tokens unaffected), and refused
// credentials count against the client address.
func TestConfigAPIRateLimit(t *testing.T) {
	a := newAPIEnv(t, func(c *web.Config) { c.APIRequestsPerMinute = 3 })
	one := a.token("uno", cloud.RoleViewer, nil, nil)
	two := a.token("dos", cloud.RoleViewer, nil, nil)
	for i := 0; i < 3; i++ {
		require.Equal(t, 200, a.call(one, "GET", "/api/v1/config/outcomes", nil).Status)
	}
	res := a.call(one, "GET", "/api/v1/config/outcomes", nil)
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	code, detail := res.problem(t)
	assert.Equal(t, "hq.api.rate_limited", code)
	assert.Contains(t, detail, "Demasiadas solicitudes con este token")
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, secs >= 1 && secs <= 20, "a token a 20 s at 3 a minute: %d", secs)
	assert.Equal(t, 200, a.call(two, "GET", "/api/v1/config/outcomes", nil).Status, "another token has its own budget")

	for i := 0; i < 3; i++ {
		assert.Equal(t, 401, a.call("tkt_guess"+strconv.Itoa(i), "GET", "/api/v1/config/outcomes", nil).Status)
	}
	code, _ = a.call("tkt_guess", "GET", "/api/v1/config/outcomes", nil).problem(t)
	assert.Equal(t, "hq.api.rate_limited", code, "refused credentials are limited per address")
}

// TestTokenPageExpiry: the users page makes a token with a last day, shows
// it once, lists its expiry and creator, and refuses a past day.
func TestTokenPageExpiry(t *testing.T) {
	e := newEnv(t)
	e.user("admin@tokens.cl", "admin", nil, nil)
	c, csrf := e.login("admin@tokens.cl")
	last := time.Now().In(mustLoc(t)).AddDate(0, 1, 0).Format(time.DateOnly)
	res, body := e.post(c, "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"erp"}, "role": {"admin"}, "expires": {last}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Regexp(t, `<code id="new-token">tkt_[A-Za-z0-9_-]{43}</code>`, body, "32 random bytes, shown once")
	lastDay, err := time.ParseInLocation(time.DateOnly, last, mustLoc(t))
	require.NoError(t, err)
	assert.Contains(t, body, lastDay.AddDate(0, 0, 1).Format(time.DateOnly)+" 00:00:00", "the expiry column: the midnight after the last day")
	tokens, err := e.store.Tokens(context.Background())
	require.NoError(t, err)
	var tk cloud.APIToken
	for _, x := range tokens {
		if x.Name == "erp" {
			tk = x
		}
	}
	require.NotNil(t, tk.ExpiresAt)
	assert.Equal(t, last, tk.ExpiresAt.Add(-time.Second).In(mustLoc(t)).Format(time.DateOnly), "works through its last day in Santiago")
	assert.Equal(t, "admin@tokens.cl", tk.CreatedBy)
	assert.Len(t, e.audited(cloud.AuditTokenCreate, "admin@tokens.cl"), 1)
	_, body = e.get(c, "/admin/users")
	assert.NotContains(t, body, "new-token", "never shown again")
	assert.Contains(t, body, "admin@tokens.cl")

	res, body = e.post(c, "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"viejo"}, "role": {"viewer"}, "expires": {"2020-01-01"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "La fecha de expiración del token debe ser futura")
}
