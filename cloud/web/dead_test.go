package web_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/web"
)

// Dead-lettered Telegram messages show on the overview, asked only for the
// branches the signed-in user may see.
func TestOverviewShowsDeadLetters(t *testing.T) {
	var mu sync.Mutex
	var asked [][]string
	e := newEnv(t, func(c *web.Config) {
		c.DeadLetters = func(_ context.Context, branches []string, limit int) ([]cloud.DeadJob, error) {
			mu.Lock()
			asked = append(asked, append([]string(nil), branches...))
			mu.Unlock()
			var out []cloud.DeadJob
			for _, b := range branches {
				if b == "DL-002" {
					out = append(out, cloud.DeadJob{Branch: b, Ticket: "T-DEAD-1", Kind: "turn", Attempts: 4,
						LastError: "HTTP 502", CreatedAt: time.Now()})
				}
			}
			return out, nil
		}
	})
	e.f.Branch("DL-001", "Uno", "DLA", true)
	e.f.Branch("DL-002", "Dos", "DLB", true)
	e.user("admin@dead.cl", "admin", nil, nil)
	e.user("sup@dead.cl", "supervisor", []string{"DLA"}, nil)

	c, _ := e.login("admin@dead.cl")
	res, body := e.get(c, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Mensajes de Telegram no entregados (1)")
	assert.Contains(t, body, `data-dead="T-DEAD-1"`)

	c, _ = e.login("sup@dead.cl")
	_, body = e.get(c, "/")
	assert.NotContains(t, body, "T-DEAD-1", "another region's dead letters stay hidden")
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, asked)
	last := asked[len(asked)-1]
	assert.Contains(t, last, "DL-001")
	assert.NotContains(t, last, "DL-002", "the query is scoped, not only the page")
}
