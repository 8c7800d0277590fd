package hq_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// cause is the audit cause of a refused sign-in ("" for success).
func cause(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var lr *cloud.LoginRefused
	require.ErrorAs(t, err, &lr)
	return lr.Cause
}

// Parallel wrong passwords cannot get more than MaxFailedLogins evaluations:
// each attempt is counted before its password is compared (issue 13: ten sent
// at once were all evaluated and the right one among them signed in).
func TestLockoutParallel(t *testing.T) {
	s, _, _ := newStore(t)
	s.BcryptCost = 8 // slow enough that unserialised checks would all pass the lock
	ctx := context.Background()
	_, err := s.CreateUser(ctx, cloud.NewUser{Email: "race@bank.cl", Password: "correct-horse", Role: cloud.RoleViewer})
	require.NoError(t, err)

	const n = 10
	causes := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Authenticate(ctx, "race@bank.cl", "wrong-password")
			causes[i] = cause(t, err)
		}()
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, c := range causes {
		count[c]++
	}
	assert.Equal(t, map[string]int{"hq.login.failed": 5, "hq.login.locked": 5}, count)
	_, err = s.Authenticate(ctx, "race@bank.cl", "correct-horse")
	assert.Equal(t, "hq.login.locked", cause(t, err), "the right password is refused while locked")
}

// Every refusal looks the same (code, reason, message) whether the account is
// unknown, locked, disabled or the password wrong; and the unknown-account
// path compares a hash as costly as a real one.
func TestRefusalsLookAlike(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	s.BcryptCost = bcrypt.DefaultCost + 2
	assert.Equal(t, s.BcryptCost, mustCost(t, s.DummyHash()), "dummy hash at the cost of real hashes")
	s.BcryptCost = bcrypt.MinCost
	assert.Equal(t, bcrypt.MinCost, mustCost(t, s.DummyHash()), "follows the store's cost")

	_, err := s.CreateUser(ctx, cloud.NewUser{Email: "same@bank.cl", Password: "correct-horse", Role: cloud.RoleViewer})
	require.NoError(t, err)
	u, err := s.CreateUser(ctx, cloud.NewUser{Email: "off@bank.cl", Password: "correct-horse", Role: cloud.RoleViewer})
	require.NoError(t, err)
	_, err = s.SetDisabled(ctx, u.ID, true)
	require.NoError(t, err)

	var errs []error
	_, err = s.Authenticate(ctx, "nobody@bank.cl", "whatever-pass")
	errs = append(errs, err)
	_, err = s.Authenticate(ctx, "same@bank.cl", "wrong-password")
	errs = append(errs, err)
	_, err = s.Authenticate(ctx, "off@bank.cl", "correct-horse")
	errs = append(errs, err)
	for range 5 {
		_, err = s.Authenticate(ctx, "same@bank.cl", "wrong-password")
	}
	errs = append(errs, err)
	want := []string{"hq.login.unknown", "hq.login.failed", "hq.login.disabled", "hq.login.locked"}
	for i, err := range errs {
		assert.Equal(t, want[i], cause(t, err))
		assert.Equal(t, queue.CodeUnauthorized, queue.ErrorCode(err))
		assert.Equal(t, "hq.login.refused", queue.ErrorReason(err))
		assert.Equal(t, queue.ErrorMessage("es", errs[0]), queue.ErrorMessage("es", err))
	}
}

func mustCost(t *testing.T, h []byte) int {
	t.Helper()
	c, err := bcrypt.Cost(h)
	require.NoError(t, err)
	return c
}

// Repeated refusals share one audit row a minute; no field grows without bound.
func TestAuditCounted(t *testing.T) {
	s, _, c := newStore(t)
	ctx := context.Background()
	e := cloud.AuditEntry{Actor: "flood@bank.cl", Action: cloud.AuditLoginFailed, Detail: "hq.login.unknown", IP: "203.0.113.5"}
	for range 50 {
		require.NoError(t, s.AuditCounted(ctx, e))
	}
	c.t = c.t.Add(61e9)
	require.NoError(t, s.AuditCounted(ctx, e))
	got, err := s.AuditLog(ctx, cloud.AuditFilter{Actor: "flood@bank.cl"})
	require.NoError(t, err)
	require.Len(t, got, 2, "one row per minute")
	assert.Equal(t, 1, got[0].Count)
	assert.Equal(t, 50, got[1].Count)

	big := strings.Repeat("x", 8<<20)
	require.NoError(t, s.Audit(ctx, cloud.AuditEntry{Actor: big, Action: cloud.AuditExport, Target: big, Detail: big, IP: big}))
	require.NoError(t, s.AuditCounted(ctx, cloud.AuditEntry{Actor: "ñ" + big, Action: cloud.AuditDenied, Target: big, Detail: big, IP: "x"}))
	got, err = s.AuditLog(ctx, cloud.AuditFilter{Limit: 2})
	require.NoError(t, err)
	for _, g := range got {
		assert.LessOrEqual(t, len(g.Actor)+len(g.Target)+len(g.Detail)+len(g.IP), 2000)
	}
}

func TestUserEmailLength(t *testing.T) {
	s, _, _ := newStore(t)
	long := strings.Repeat("a", cloud.MaxEmailLen) + "@bank.cl"
	_, err := s.CreateUser(context.Background(), cloud.NewUser{Email: long, Password: "long-enough-pass", Role: cloud.RoleViewer})
	assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(err))
}

// The first admin must change his password; ChangePassword checks the current
// one, clears the flag and ends his other sessions.
func TestChangePassword(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, cloud.NewUser{Email: "chg@bank.cl", Password: "old-password", Role: cloud.RoleViewer})
	require.NoError(t, err)
	keep, _, err := s.CreateSession(ctx, u.ID, "")
	require.NoError(t, err)
	other, _, err := s.CreateSession(ctx, u.ID, "")
	require.NoError(t, err)

	assert.Equal(t, queue.CodeUnauthorized, queue.ErrorCode(s.ChangePassword(ctx, u.ID, "wrong-password", "new-password", keep)))
	assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(s.ChangePassword(ctx, u.ID, "old-password", "short", keep)))
	assert.Equal(t, "hq.password.same", queue.ErrorReason(s.ChangePassword(ctx, u.ID, "old-password", "old-password", keep)))
	require.NoError(t, s.ChangePassword(ctx, u.ID, "old-password", "new-password", keep))
	_, _, err = s.Session(ctx, keep)
	assert.NoError(t, err, "the session that changed it stays")
	_, _, err = s.Session(ctx, other)
	assert.Equal(t, queue.CodeUnauthorized, queue.ErrorCode(err), "other sessions end")
	_, err = s.Authenticate(ctx, "chg@bank.cl", "new-password")
	assert.NoError(t, err)

}
