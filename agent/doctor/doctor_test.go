package doctor_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/doctor"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// box is a branch box's data dir with a real database (tickets issued, an
// outbox backlog), a real broker with its certificate, a cloud and a LAN port.
type box struct {
	cfg    doctor.Config
	broker *mqtttest.Broker
}

func newBox(t *testing.T) *box {
	t.Helper()
	b := mqtttest.Start(t)
	cert := b.MustBranchCert(t, "SCL-001")
	data := t.TempDir()
	db := filepath.Join(data, "agent.db")
	key := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(key)
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: db, Branch: "SCL-001", DataKey: key})
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, _, err := st.Issue(context.Background(), agent.TicketRequest{Service: "C"})
		require.NoError(t, err)
	}
	require.NoError(t, st.Ack(context.Background(), 2))
	require.NoError(t, st.Close())
	cloud := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(cloud.Close)
	lan := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(lan.Close)
	return &box{broker: b, cfg: doctor.Config{
		Branch: "SCL-001", Data: data, DB: db,
		Cert: cert.CertFile, Key: cert.KeyFile, CA: b.PKI.CAFile, Broker: b.URL(),
		Cloud: cloud.URL, LAN: lan.Listener.Addr().String(), MinFreeBytes: 1 << 20, CertWarn: time.Hour,
	}}
}

func byID(r doctor.Report) map[string]doctor.Check {
	m := map[string]doctor.Check{}
	for _, c := range r.Checks {
		m[c.ID] = c
	}
	return m
}

func TestHealthyBox(t *testing.T) {
	b := newBox(t)
	r := doctor.Run(context.Background(), b.cfg, i18n.ES)
	for _, c := range r.Checks {
		assert.Equal(t, doctor.Pass, c.Status, "%s: %s", c.ID, c.Detail)
	}
	assert.True(t, r.OK)
	assert.Len(t, r.Checks, 8, "config, cert, broker, cloud, disk, sqlite, outbox, lan")
	assert.Contains(t, byID(r)["outbox"].Detail, "3 eventos sin confirmar", "5 written, 2 acked")
	var out bytes.Buffer
	doctor.Print(&out, r, i18n.ES)
	assert.Contains(t, out.String(), "[OK] certificado: CN SCL-001")
	assert.Contains(t, out.String(), "Todo en orden (8 verificaciones).")
}

func TestFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("broker refuses a foreign certificate", func(t *testing.T) {
		b := newBox(t)
		other, err := mqtttest.NewPKI(t.TempDir())
		require.NoError(t, err)
		c, err := other.Issue("intruder", "SCL-001", false)
		require.NoError(t, err)
		b.cfg.Cert, b.cfg.Key = c.CertFile, c.KeyFile
		r := doctor.Run(ctx, b.cfg, i18n.EN)
		assert.False(t, r.OK)
		br := byID(r)["broker"]
		assert.Equal(t, doctor.Fail, br.Status, br.Detail)
		assert.Contains(t, br.Fix, "firewall")
	})
	t.Run("broker down", func(t *testing.T) {
		b := newBox(t)
		b.broker.Stop()
		r := doctor.Run(ctx, b.cfg, i18n.ES)
		assert.Equal(t, doctor.Fail, byID(r)["broker"].Status)
		assert.Equal(t, doctor.Pass, byID(r)["cert"].Status)
	})
	t.Run("certificate of another branch, expiring", func(t *testing.T) {
		b := newBox(t)
		b.cfg.Branch = "SCL-002"
		r := doctor.Run(ctx, b.cfg, i18n.ES)
		assert.Equal(t, doctor.Fail, byID(r)["cert"].Status)
		assert.Contains(t, byID(r)["cert"].Fix, "ticketero-agent renew")
		b.cfg.Branch = "SCL-001"
		b.cfg.CertWarn = 48 * time.Hour // the test certificate lives 24 h
		r = doctor.Run(ctx, b.cfg, i18n.ES)
		assert.Equal(t, doctor.Warn, byID(r)["cert"].Status)
		assert.True(t, r.OK, "a warning is not a failure")
		b.cfg.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
		r = doctor.Run(ctx, b.cfg, i18n.ES)
		assert.Equal(t, doctor.Fail, byID(r)["cert"].Status, "expired")
	})
	t.Run("clock skew and cloud down", func(t *testing.T) {
		b := newBox(t)
		b.cfg.Now = func() time.Time { return time.Now().Add(-5 * time.Minute) }
		b.cfg.CertWarn = time.Minute
		r := doctor.Run(ctx, b.cfg, i18n.EN)
		cl := byID(r)["cloud"]
		assert.Equal(t, doctor.Fail, cl.Status)
		assert.Regexp(t, `-(4m59s|5m0s|5m1s) off`, cl.Detail)
		assert.Contains(t, cl.Fix, "timedatectl")
		b.cfg.Now = nil
		b.cfg.Cloud = "http://" + freeAddr(t)
		r = doctor.Run(ctx, b.cfg, i18n.EN)
		assert.Equal(t, doctor.Fail, byID(r)["cloud"].Status)
	})
	t.Run("backlog, disk, LAN port", func(t *testing.T) {
		b := newBox(t)
		b.cfg.MaxBacklog = 2
		b.cfg.MinFreeBytes = 1 << 62
		b.cfg.LAN = freeAddr(t)
		r := doctor.Run(ctx, b.cfg, i18n.ES)
		m := byID(r)
		assert.Equal(t, doctor.Fail, m["outbox"].Status)
		assert.Equal(t, doctor.Fail, m["disk"].Status)
		assert.Equal(t, doctor.Fail, m["lan"].Status)
		assert.Contains(t, m["lan"].Fix, "systemctl restart ticketero-agent")
		var out bytes.Buffer
		require.NoError(t, doctor.PrintJSON(&out, r))
		var back doctor.Report
		require.NoError(t, json.Unmarshal(out.Bytes(), &back))
		assert.False(t, back.OK)
		assert.Equal(t, r.Checks, back.Checks)
	})
	t.Run("corrupt database", func(t *testing.T) {
		b := newBox(t)
		f, err := os.OpenFile(b.cfg.DB, os.O_RDWR, 0)
		require.NoError(t, err)
		fi, _ := f.Stat()
		junk := bytes.Repeat([]byte{0xA5}, 4096)
		_, err = f.WriteAt(junk, fi.Size()-8192) // a table page, after the header
		require.NoError(t, err)
		require.NoError(t, f.Close())
		r := doctor.Run(ctx, b.cfg, i18n.ES)
		assert.Equal(t, doctor.Fail, byID(r)["sqlite"].Status, byID(r)["sqlite"].Detail)
		assert.Contains(t, byID(r)["sqlite"].Fix, "ticketero-agent restore")
	})
	t.Run("bad configuration", func(t *testing.T) {
		b := newBox(t)
		b.cfg.Branch = "scl 1"
		b.cfg.Data = filepath.Join(t.TempDir(), "nope")
		r := doctor.Run(ctx, b.cfg, i18n.ES)
		assert.Equal(t, doctor.Fail, byID(r)["config"].Status)
		assert.Contains(t, byID(r)["config"].Detail, "no es válido")
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := l.Addr().String()
	l.Close()
	return a
}
