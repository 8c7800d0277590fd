package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The branch page lists the branch's quarantined events, what made each one
// poison visible in its preview.
func TestBranchPageShowsQuarantine(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("QW-001", "Cuarentena", "QW", true)
	_, err := e.f.Pool.Exec(context.Background(), `INSERT INTO ingest_quarantine (branch, seq, event_id, type, raw, raw_sha256, reason, detail)
		VALUES ('QW-001', 6, 'e6', 'executive.paused', $1, '\x01', 'text', 'event seq 6 has NUL (\u0000) in a string')`,
		[]byte("{\"seq\":6,\"name\":\"Jos\xe9\"}"))
	require.NoError(t, err)
	e.user("admin@qw.cl", "admin", nil, nil)
	c, _ := e.login("admin@qw.cl")
	res, body := e.get(c, "/branches/QW-001")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Eventos en cuarentena (1)")
	assert.Contains(t, body, "executive.paused")
	assert.Contains(t, body, `Jos\xe9`)
	res, body = e.get(c, "/branches/QW-001", "Accept-Language", "en")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Quarantined events (1)")
}
