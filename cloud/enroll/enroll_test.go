package enroll_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agentenroll "github.com/ticketero/ticketero/agent/enroll"
	"github.com/ticketero/ticketero/cloud/enroll"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/migrations"
	"github.com/ticketero/ticketero/shared/clientip"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

var (
	testDB *pgxpool.Pool
	dbErr  error
)

func TestMain(m *testing.M) {
	ctx := context.Background()
	var drop func()
	var dbURL string
	dbURL, drop, dbErr = pgtest.Create(ctx, "ticketero_cloud_enroll")
	if dbErr == nil {
		testDB, dbErr = pgxpool.New(ctx, dbURL)
		if dbErr == nil {
			sqlDB := stdlib.OpenDBFromPool(testDB)
			dbErr = migrations.UpPostgres(ctx, sqlDB)
			sqlDB.Close()
		}
	}
	code := m.Run()
	if testDB != nil {
		testDB.Close()
	}
	if drop != nil {
		drop()
	}
	os.Exit(code)
}

func db(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	return testDB
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func addBranch(t *testing.T, id string) {
	t.Helper()
	_, err := db(t).Exec(context.Background(), `INSERT INTO branches (id, name, time_zone) VALUES ($1, $1, 'America/Santiago') ON CONFLICT DO NOTHING`, id)
	require.NoError(t, err)
}

func auditCount(t *testing.T, action, target string) int {
	t.Helper()
	var n int
	require.NoError(t, db(t).QueryRow(context.Background(), `SELECT count(*) FROM hq_audit WHERE action = $1 AND target = $2`, action, target).Scan(&n))
	return n
}

// testCA makes a CA certificate and key in PEM.
func testCA(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	p, err := testpki.NewValid(t.TempDir(), "Ticketero Test CA", 10*365*24*time.Hour)
	require.NoError(t, err)
	keyPEM, err = p.KeyPEM()
	require.NoError(t, err)
	return p.CertPEM(), keyPEM
}

func csrPEM(t *testing.T, cn string) string {
	t.Helper()
	csr, err := testpki.CSR(cn)
	require.NoError(t, err)
	return csr
}

type env struct {
	store *postgres.EnrollStore
	h     *enroll.Handler
	srv   *httptest.Server
	ca    *x509.Certificate
	clk   *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	certPEM, keyPEM := testCA(t)
	ca, err := enroll.NewLocalCA(certPEM, keyPEM, "mqtts://broker.test:8883")
	require.NoError(t, err)
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	ca.Now = clk.Now
	ca.Validity = 90 * 24 * time.Hour
	store := &postgres.EnrollStore{Pool: db(t), Now: clk.Now}
	h := &enroll.Handler{Store: store, Provisioner: ca, Now: clk.Now,
		Authorize: func(r *http.Request) (string, error) {
			if r.Header.Get("Authorization") != "Bearer admin" {
				return "", errUnauthorized
			}
			return "admin@hq", nil
		}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{store: store, h: h, srv: srv, ca: ca.Cert, clk: clk}
}

var errUnauthorized = queueErr()

func postJSON(t *testing.T, url, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m
}

func TestCodeLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	addBranch(t, "LIFE-001")

	_, err := e.store.CreateCode(ctx, "NOPE-404", "admin@hq", time.Hour)
	require.Error(t, err)
	assert.Equal(t, "enroll.branch_unknown", reason(err))
	_, err = e.store.CreateCode(ctx, "LIFE-001", "admin@hq", 8*24*time.Hour)
	assert.Equal(t, "enroll.ttl_invalid", reason(err))

	c, err := e.store.CreateCode(ctx, "LIFE-001", "admin@hq", time.Hour)
	require.NoError(t, err)
	assert.Len(t, c.Code, 14, "XXXX-XXXX-XXXX")
	assert.Equal(t, 1, auditCount(t, "enroll.code_created", "LIFE-001"))

	t.Run("single use", func(t *testing.T) {
		b, err := e.store.Redeem(ctx, " "+lower(c.Code)+" ", "10.0.0.7", nil)
		require.NoError(t, err, "separators and case do not matter")
		assert.Equal(t, "LIFE-001", string(b))
		_, err = e.store.Redeem(ctx, c.Code, "10.0.0.7", nil)
		assert.Equal(t, "enroll.code_invalid", reason(err))
		assert.Equal(t, 1, auditCount(t, "enroll.code_used", "LIFE-001"))
	})
	t.Run("expires", func(t *testing.T) {
		c2, err := e.store.CreateCode(ctx, "LIFE-001", "admin@hq", time.Hour)
		require.NoError(t, err)
		e.clk.Add(time.Hour + time.Second)
		_, err = e.store.Redeem(ctx, c2.Code, "10.0.0.7", nil)
		assert.Equal(t, "enroll.code_invalid", reason(err))
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := e.store.Redeem(ctx, "AAAA-BBBB-CCCC", "10.0.0.9", nil)
		assert.Equal(t, "enroll.code_invalid", reason(err))
		var n int
		require.NoError(t, db(t).QueryRow(ctx, `SELECT count(*) FROM hq_audit WHERE action = 'enroll.code_refused' AND ip = '10.0.0.9'`).Scan(&n))
		assert.Equal(t, 1, n, "refusals are audited")
	})
}

func TestEnrollHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	addBranch(t, "HTTP-001")

	t.Run("code needs an admin", func(t *testing.T) {
		st, body := postJSON(t, e.srv.URL+"/api/v1/branches/HTTP-001/enroll-codes", `{"ttl_s":600}`)
		assert.Equal(t, http.StatusUnauthorized, st)
		assert.Equal(t, "enroll.admin_required", body["code"])
		st, body = postJSON(t, e.srv.URL+"/api/v1/branches/HTTP-001/enroll-codes", `{"ttl_s":600}`, "Authorization", "Bearer admin")
		require.Equal(t, http.StatusCreated, st, body)
		assert.Equal(t, "HTTP-001", body["branch"])
	})

	c, err := e.store.CreateCode(ctx, "HTTP-001", "admin@hq", time.Hour)
	require.NoError(t, err)
	url := e.srv.URL + "/api/v1/enroll"

	t.Run("bad input does not burn the code", func(t *testing.T) {
		for _, tc := range []struct{ body, code string }{
			{`{"code":`, "enroll.request_invalid"},
			{`{"code":"` + c.Code + `","csr":"nope"}`, "enroll.csr_invalid"},
			{`{"code":"` + c.Code + `","csr":"x","extra":1}`, "enroll.request_invalid"},
			{`{"code":"` + c.Code + `"}`, "enroll.request_invalid"},
			{`{"code":"` + c.Code + `","csr":"` + string(bytes.Repeat([]byte("A"), enroll.MaxBody)) + `"}`, "enroll.body_too_large"},
		} {
			st, body := postJSON(t, url, tc.body)
			assert.Equal(t, http.StatusBadRequest, st, tc.body[:min(len(tc.body), 40)])
			assert.Equal(t, tc.code, body["code"])
			assert.Contains(t, body["title"], "solicitud", "Spanish by default")
		}
		st, body := postJSON(t, url, `{"code":"`+c.Code+`","csr":`+jsonString(csrPEM(t, "OTHER-002"))+`}`, "Accept-Language", "en")
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, "enroll.csr_invalid", body["code"], "a CSR for another branch is refused")
		assert.Contains(t, body["title"], "certificate request")
	})

	t.Run("enrol", func(t *testing.T) {
		_, err := db(t).Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by) VALUES ('HTTP-001', 3, '{"v":1,"branch":"HTTP-001","version":3}', now(), 'admin@hq')`)
		require.NoError(t, err)
		st, body := postJSON(t, url, `{"code":"`+c.Code+`","csr":`+jsonString(csrPEM(t, ""))+`}`)
		require.Equal(t, http.StatusCreated, st, body)
		assert.Equal(t, "HTTP-001", body["branch"])
		assert.Equal(t, "mqtts://broker.test:8883", body["broker"])
		assert.EqualValues(t, 3, body["config"].(map[string]any)["version"])
		block, _ := pem.Decode([]byte(body["certificate"].(string)))
		cert, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		assert.Equal(t, "HTTP-001", cert.Subject.CommonName, "CN = branch")
		assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, cert.ExtKeyUsage)
		require.NoError(t, cert.CheckSignatureFrom(e.ca))
		require.NoError(t, e.store.CertificateActive(ctx, "HTTP-001", cert.Raw))
		assert.Equal(t, 1, auditCount(t, "enroll.certificate_issued", "HTTP-001"))

		st, body = postJSON(t, url, `{"code":"`+c.Code+`","csr":`+jsonString(csrPEM(t, ""))+`}`)
		assert.Equal(t, http.StatusUnauthorized, st, "second use")
		assert.Equal(t, "enroll.code_invalid", body["code"])
	})
}

// TestAgentClient runs the box's real enrolment client against the handler:
// enrol (files 0600, key never sent), renew before expiry with proof of
// possession, resume state, and refusals of a revoked or foreign certificate.
func TestAgentClient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	addBranch(t, "CLI-001")
	c, err := e.store.CreateCode(ctx, "CLI-001", "admin@hq", time.Hour)
	require.NoError(t, err)
	dir := t.TempDir()
	cl := &agentenroll.Client{Cloud: e.srv.URL, Now: e.clk.Now}

	_, err = cl.Enroll(ctx, dir, "WRONG-CODE-0000", "CLI-001")
	var ce *agentenroll.CloudError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "enroll.code_invalid", ce.Code)
	_, statErr := os.Stat(agentenroll.Paths{Dir: dir}.Key())
	assert.True(t, os.IsNotExist(statErr), "nothing written on refusal")

	res, err := cl.Enroll(ctx, dir, c.Code, "CLI-001")
	require.NoError(t, err)
	assert.Equal(t, "CLI-001", res.State.Branch)
	require.NotNil(t, res.Resume)
	p := agentenroll.Paths{Dir: dir}
	for _, f := range []string{p.Key(), p.Cert(), p.CA(), p.State()} {
		fi, err := os.Stat(f)
		require.NoError(t, err, f)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), filepath.Base(f))
	}
	fi, err := os.Stat(p.TLSDir())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	firstKey, err := os.ReadFile(p.Key())
	require.NoError(t, err)

	t.Run("renew not due", func(t *testing.T) {
		renewed, _, err := cl.Renew(ctx, dir, 30*24*time.Hour)
		require.NoError(t, err)
		assert.False(t, renewed)
	})
	t.Run("renew before expiry", func(t *testing.T) {
		e.clk.Add(61 * 24 * time.Hour) // 29 days left of 90
		oldPEM, err := os.ReadFile(p.Cert())
		require.NoError(t, err)
		oldBlock, _ := pem.Decode(oldPEM)
		require.NoError(t, e.store.CertificateActive(ctx, "CLI-001", oldBlock.Bytes))
		renewed, st, err := cl.Renew(ctx, dir, 30*24*time.Hour)
		require.NoError(t, err)
		require.True(t, renewed)
		assert.True(t, st.NotAfter.After(e.clk.Now().Add(89*24*time.Hour)))
		k, err := os.ReadFile(p.Key())
		require.NoError(t, err)
		assert.NotEqual(t, firstKey, k, "the key rotates")
		assert.NoError(t, e.store.CertificateActive(ctx, "CLI-001", oldBlock.Bytes), "the old certificate stays valid until it expires (a box that lost the answer can retry)")
		assert.Zero(t, auditCount(t, "enroll.certificates_revoked", "CLI-001"))
		assert.Equal(t, 2, auditCount(t, "enroll.certificate_issued", "CLI-001"))
	})
	t.Run("renewer", func(t *testing.T) {
		e.clk.Add(70 * 24 * time.Hour) // 20 days left
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var got agentenroll.State
		r := &agentenroll.Renewer{Client: cl, Dir: dir, Interval: time.Hour, OnRenew: func(s agentenroll.State) { got = s; cancel() }}
		require.NoError(t, r.Run(ctx))
		assert.True(t, got.NotAfter.After(e.clk.Now().Add(89*24*time.Hour)), "renewed at start")
		assert.Equal(t, 3, auditCount(t, "enroll.certificate_issued", "CLI-001"))
	})
	t.Run("resume", func(t *testing.T) {
		day := e.clk.Now().In(mustLoc(t)).Format(time.DateOnly)
		_, err := db(t).Exec(ctx, `INSERT INTO branch_sync (branch, applied_seq, max_seq) VALUES ('CLI-001', 41, 41)`)
		require.NoError(t, err)
		for _, tk := range []struct {
			id, svc, status string
			n               int
		}{{"t1", "C", "completed", 1}, {"t2", "C", "waiting", 2}, {"t3", "P", "called", 1}, {"t4", "C", "cancelled", 3}} {
			_, err := db(t).Exec(ctx, `INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, queued_at, created_at, last_seq, counter)
				VALUES ('CLI-001', $1, $2, $3, $4, $3, 'normal', $5, now(), now(), 1, CASE WHEN $5 = 'called' THEN 4 END)`, tk.id, day, tk.svc, tk.n, tk.status)
			require.NoError(t, err)
		}
		_, err = db(t).Exec(ctx, `INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, queued_at, created_at, last_seq)
			VALUES ('CLI-001', 'old', '2000-01-01', 'C', 99, 'C', 'normal', 'waiting', now(), now(), 1)`)
		require.NoError(t, err)
		r, err := cl.Resume(ctx, dir)
		require.NoError(t, err)
		assert.Equal(t, uint64(41), r.AppliedSeq)
		assert.Equal(t, day, r.Day)
		assert.Equal(t, map[string]int{"C": 3, "P": 1}, r.Numbers, "yesterday's numbers do not count")
		require.Len(t, r.Open, 2)
		ids := []string{r.Open[0].ID, r.Open[1].ID}
		assert.ElementsMatch(t, []string{"t2", "t3"}, ids)
	})
	t.Run("foreign or revoked certificate", func(t *testing.T) {
		// Another box's files for the same branch, self-made: never registered.
		other := t.TempDir()
		require.NoError(t, os.MkdirAll(agentenroll.Paths{Dir: other}.TLSDir(), 0o700))
		copyFile(t, p.State(), agentenroll.Paths{Dir: other}.State())
		selfSigned(t, other, "CLI-001")
		_, err := cl.Resume(ctx, other)
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "enroll.proof_invalid", ce.Code)

		_, err = e.store.Revoke(ctx, "CLI-001", "", "admin@hq")
		require.NoError(t, err)
		_, err = cl.Resume(ctx, dir)
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, http.StatusUnauthorized, ce.Status)
	})
}

// TestClientAddress: the audit of a refused code keys on the client behind
// the configured trusted proxy (shared/clientip), and on the peer when no
// proxy is configured, never on a header a client may forge.
func TestClientAddress(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proxy clientip.Proxy
		xff   string
		want  string
	}{
		{"untrusted header", clientip.Proxy{}, "203.0.113.40", "127.0.0.1"},
		{"one trusted hop", clientip.Proxy{Hops: 1}, "6.6.6.6, 203.0.113.41", "203.0.113.41"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.h.Proxy = tc.proxy
			before := refusedFrom(t, tc.want)
			st, _ := postJSON(t, e.srv.URL+"/api/v1/enroll", `{"code":"AAAA-BBBB-CCCC","csr":`+jsonString(csrPEM(t, "ADDR-001"))+`}`, "X-Forwarded-For", tc.xff)
			require.Equal(t, http.StatusUnauthorized, st, "an unknown code")
			assert.Equal(t, before+1, refusedFrom(t, tc.want))
		})
	}
}

func refusedFrom(t *testing.T, ip string) int {
	t.Helper()
	var n int
	require.NoError(t, db(t).QueryRow(context.Background(),
		`SELECT count(*) FROM hq_audit WHERE action = 'enroll.code_refused' AND ip = $1`, ip).Scan(&n))
	return n
}
