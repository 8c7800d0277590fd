package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HQ's agents page shows each box's version and its last update step (from
// the agent.update events the boxes sent); supervisors do not see it.
func TestAgentsPage(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("AG-001", "Uno", "RM", true)
	e.f.Branch("AG-002", "Dos", "RM", true)
	ctx := context.Background()
	_, err := e.f.Pool.Exec(ctx, `INSERT INTO branch_sync (branch, agent_version) VALUES ('AG-001', '2.0.0'), ('AG-002', '2.0.0')
		ON CONFLICT (branch) DO UPDATE SET agent_version = excluded.agent_version`)
	require.NoError(t, err)
	_, err = e.f.Pool.Exec(ctx, `INSERT INTO events (branch, seq, id, type, at, data) VALUES
		('AG-001', 1, 'u1', 'agent.update', now(), '{"state":"trial","version":"2.0.0","running":"2.0.0"}'),
		('AG-001', 2, 'u2', 'agent.update', now(), '{"state":"updated","version":"2.0.0","running":"2.0.0"}'),
		('AG-002', 1, 'u3', 'agent.update', now(), '{"state":"rolled_back","version":"3.0.0","running":"2.0.0","reason":"the new version stopped before it was healthy"}')`)
	require.NoError(t, err)
	// AG-002 held an offer of 3.1.0 whose rollout was stopped (withdrawn).
	_, err = e.f.Pool.Exec(ctx, `INSERT INTO agent_releases (version, os, arch, manifest, signature, s3_key) VALUES ('3.1.0', 'linux', 'amd64', '{}', 's', 'k');
		INSERT INTO agent_rollouts (id, version, ring, install_window, stopped_at) VALUES (9001, '3.1.0', 'all', 'always', now());
		INSERT INTO agent_offers (branch, version, rollout) VALUES ('AG-002', '', 9001)`)
	require.NoError(t, err)
	e.user("admin@ag.cl", "admin", nil, nil)
	c, _ := e.login("admin@ag.cl")
	res, body := e.get(c, "/admin/agents")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "actualizada a 2.0.0")
	assert.Contains(t, body, "volvió atrás desde 3.0.0")
	assert.Contains(t, body, "the new version stopped before it was healthy")
	assert.Contains(t, body, "detenido (3.1.0)")
	assert.Regexp(t, `<strong>2\.0\.0</strong>: \d+ cajas`, body)
	res, body = e.get(c, "/admin/agents", "Accept-Language", "en")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "rolled back from 3.0.0")
	assert.Contains(t, body, "stopped (3.1.0)")

	e.user("sup@ag.cl", "supervisor", []string{"RM"}, nil)
	c2, _ := e.login("sup@ag.cl")
	res, _ = e.get(c2, "/admin/agents")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}
