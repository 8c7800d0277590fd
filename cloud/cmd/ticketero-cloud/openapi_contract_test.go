package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/enrollapi"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/openapitest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// TestCloudResponsesMatchOpenAPI runs the cloud as `serve` assembles it
// (database, broker, enrolment with a local CA, HQ web, ops guard) and sends
// every operation of the OpenAPI document it serves at least one real
// request, successes and refusals: each answer's status code and
// Content-Type must be documented for that operation.
func TestCloudResponsesMatchOpenAPI(t *testing.T) {
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	caCert, caKey := writeLocalCA(t)
	t.Setenv("TICKETERO_ENROLL_PROVISIONER", "local-ca")
	t.Setenv("TICKETERO_ENROLL_CA_CERT", caCert)
	t.Setenv("TICKETERO_ENROLL_CA_KEY", caKey)
	t.Setenv("TICKETERO_ENROLL_BROKER", "mqtts://broker.test:8883")
	m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 2, OpsToken: testOpsToken}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.HTTPAddr()
	require.Eventually(t, func() bool { return getJSON(t, base+"/readyz", nil) == 200 }, 10*time.Second, 50*time.Millisecond)

	res, err := http.Get(base + "/api/v1/openapi.json")
	require.NoError(t, err)
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	_ = res.Body.Close()
	doc := openapitest.MustParse(t, raw)
	client := &http.Client{Transport: openapitest.Transport{Doc: doc, T: t}}

	call := func(method, path string, body any, token string) (int, []byte) {
		t.Helper()
		var rd io.Reader
		switch b := body.(type) {
		case nil:
		case string:
			rd = bytes.NewBufferString(b)
		default:
			j, err := json.Marshal(b)
			require.NoError(t, err)
			rd = bytes.NewReader(j)
		}
		req, err := http.NewRequest(method, base+path, rd)
		require.NoError(t, err)
		if rd != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, b
	}

	ctx := context.Background()
	_, err = m.Pool.Exec(ctx, `INSERT INTO branches (id, name, time_zone) VALUES ('SCL-001', 'Centro', 'America/Santiago') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	store := hq.New(m.Pool, time.Now)
	admin, err := store.CreateToken(ctx, "contract-admin", cloud.RoleAdmin, nil, nil)
	require.NoError(t, err)
	viewer, err := store.CreateToken(ctx, "contract-viewer", cloud.RoleViewer, nil, nil)
	require.NoError(t, err)

	// Operations.
	call("GET", "/healthz", nil, "")
	call("GET", "/readyz", nil, "")
	call("GET", "/api/v1/openapi.json", nil, "")
	for _, tok := range []string{"", viewer, testOpsToken} {
		call("GET", "/metrics", nil, tok)
		call("GET", "/api/v1/branches/SCL-001/sync", nil, tok)
	}
	call("GET", "/api/v1/branches/NOPE-404/sync", nil, testOpsToken)

	// Customer feedback: report and comments (refused to a viewer and without a token).
	for _, tok := range []string{"", admin} {
		call("GET", "/hq/v1/feedback?group=service", nil, tok)
		call("GET", "/hq/v1/feedback/comments", nil, tok)
	}
	call("GET", "/hq/v1/feedback?from=2026-13-40", nil, admin)
	call("GET", "/hq/v1/feedback/comments?from=2026-13-40", nil, admin)
	call("GET", "/hq/v1/feedback/comments", nil, viewer)
	call("GET", "/api/v1/branches/bad%20id/sync", nil, testOpsToken)

	// Enrolment codes: refused, malformed, unknown branch, created.
	call("POST", "/api/v1/branches/SCL-001/enroll-codes", map[string]any{}, "")
	call("POST", "/api/v1/branches/SCL-001/enroll-codes", map[string]any{}, viewer)
	call("POST", "/api/v1/branches/SCL-001/enroll-codes", "{", admin)
	call("POST", "/api/v1/branches/SCL-001/enroll-codes", map[string]any{"ttl_s": -5}, admin)
	call("POST", "/api/v1/branches/NOPE-404/enroll-codes", map[string]any{}, admin)
	status, body := call("POST", "/api/v1/branches/SCL-001/enroll-codes", map[string]any{"ttl_s": 600}, admin)
	require.Equal(t, 201, status, "%s", body)
	var code struct {
		Code string `json:"code"`
	}
	require.NoError(t, json.Unmarshal(body, &code))

	// Enrolment: malformed, wrong code, a box enrols.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "SCL-001"}}, key)
	require.NoError(t, err)
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))
	call("POST", "/api/v1/enroll", "{", "")
	call("POST", "/api/v1/enroll", enrollapi.Request{Code: "WRONG-CODE", CSR: csr}, "")
	status, body = call("POST", "/api/v1/enroll", enrollapi.Request{Code: code.Code, CSR: csr}, "")
	require.Equal(t, 201, status, "%s", body)
	var enrolled enrollapi.Response
	require.NoError(t, json.Unmarshal(body, &enrolled))
	call("POST", "/api/v1/enroll", enrollapi.Request{Code: code.Code, CSR: csr}, "") // spent

	// Renewal and resume: a proof signed with the box's key, and refusals.
	proof := func(purpose, csr string) enrollapi.Proof {
		at := time.Now().UTC().Truncate(time.Second)
		sum := sha256.Sum256(enrollapi.ProofMessage(purpose, "SCL-001", at, csr))
		sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
		require.NoError(t, err)
		return enrollapi.Proof{Branch: "SCL-001", Certificate: enrolled.Certificate, At: at, CSR: csr,
			Signature: base64.StdEncoding.EncodeToString(sig)}
	}
	for _, path := range []string{"/api/v1/enroll/renew", "/api/v1/enroll/resume"} {
		call("POST", path, "{", "")
		bad := proof("renew", csr)
		bad.Signature = base64.StdEncoding.EncodeToString([]byte("not a signature"))
		call("POST", path, bad, "")
	}
	status, body = call("POST", "/api/v1/enroll/resume", proof("resume", ""), "")
	assert.Equal(t, 200, status, "%s", body)
	status, body = call("POST", "/api/v1/enroll/renew", proof("renew", csr), "")
	assert.Equal(t, 200, status, "%s", body)

	// The public booking API (cloud/booking): a bookable branch with remote
	// joining open.
	_, err = m.Pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ('SCL-001', 'C', 'Caja', 600, 300)`)
	require.NoError(t, err)
	_, err = m.Pool.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
		VALUES ('SCL-001', 1, '{"rules":{"appointments":{"remote":{"C":{"open":true}}}}}', now(), 'contract')`)
	require.NoError(t, err)
	week := map[string][]cloud.BookingHours{}
	for _, d := range cloud.Weekdays {
		week[d] = []cloud.BookingHours{{From: "09:00", To: "18:00", Executives: 2}}
	}
	require.NoError(t, m.appts.SaveSchedule(ctx, cloud.BookingSchedule{Branch: "SCL-001", Service: "C", SlotMin: 15,
		HorizonDays: 14, Weekly: week}, "contract"))
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	day := time.Now().In(santiago).AddDate(0, 0, 1).Format(time.DateOnly)
	start, err := time.ParseInLocation("2006-01-02 15:04", day+" 10:00", santiago)
	require.NoError(t, err)
	call("GET", "/api/v1/public/branches?q=centro", nil, "")
	call("GET", "/api/v1/public/branches/SCL-001/services/C/slots?day="+day, nil, "")
	call("GET", "/api/v1/public/branches/SCL-001/services/C/slots?day=manana", nil, "")
	booking := map[string]any{"branch": "SCL-001", "service": "C", "start": start, "rut": "12.345.678-5"}
	status, body = call("POST", "/api/v1/public/bookings", booking, "")
	require.Equal(t, 201, status, "%s", body)
	call("POST", "/api/v1/public/bookings", booking, "") // the same RUT that day: 409
	booking["rut"] = "12.345.678-9"
	call("POST", "/api/v1/public/bookings", booking, "") // check digit: 400
	j, err := m.appts.Join(ctx, cloud.JoinRequest{Branch: "SCL-001", Service: "C", Channel: "web"})
	require.NoError(t, err)
	call("GET", "/api/v1/public/joins/"+j.ID+"?code="+j.Code, nil, "")
	call("GET", "/api/v1/public/joins/"+j.ID+"?code=000000", nil, "")

	assert.Empty(t, doc.Unexercised(), "every documented operation is exercised")

	// The HQ web's configuration API is served under /api/v1/config by this
	// same server, with its own document (cloud/web/api_openapi.json, whose
	// contract test is cloud/web's TestConfigAPIContract): path values reach
	// its handlers and its problems are its own, not the sync API's 404.
	plain := func(method, path, body, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, text := plain("GET", "/api/v1/config/openapi.json", "", "")
	assert.Equal(t, 200, status)
	assert.Contains(t, text, "Ticketero HQ configuration API")
	status, text = plain("PUT", "/api/v1/config/branches/SCL-001/services/C", `{"name":"Caja","target_wait_s":600,"mean_service_s":300}`, admin)
	assert.Equal(t, 200, status, text)
	assert.Contains(t, text, `"code":"C"`)
	status, text = plain("GET", "/api/v1/config/branches/SCL-001", "", viewer)
	assert.Equal(t, 200, status, text)
	assert.Contains(t, text, `"name":"Caja"`)
	status, text = plain("PUT", "/api/v1/config/branches/SCL-001/services/C", `{"name":"Caja","target_wait_s":1,"mean_service_s":1}`, viewer)
	assert.Equal(t, 403, status)
	assert.Contains(t, text, `"code":"hq.api.read_only"`)
	status, text = plain("GET", "/api/v1/config/nothing", "", admin)
	assert.Equal(t, 404, status)
	assert.Contains(t, text, `"code":"hq.api.not_found"`)
}
