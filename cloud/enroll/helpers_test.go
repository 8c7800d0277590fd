package enroll_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	agentenroll "github.com/ticketero/ticketero/agent/enroll"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

func queueErr() error { return queue.Errorf(queue.CodeUnauthorized, "enroll.admin_required") }

func reason(err error) string { return queue.ErrorReason(err) }

func lower(s string) string { return strings.ToLower(s) }

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func mustLoc(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	return loc
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}

// selfSigned writes a self-made key and certificate for cn into dir's tls files.
func selfSigned(t *testing.T, dir, cn string) {
	t.Helper()
	keyPEM, certPEM, err := testpki.SelfSigned(cn, 365*24*time.Hour)
	require.NoError(t, err)
	p := agentenroll.Paths{Dir: dir}
	require.NoError(t, os.WriteFile(p.Cert(), certPEM, 0o600))
	require.NoError(t, os.WriteFile(p.Key(), keyPEM, 0o600))
}
