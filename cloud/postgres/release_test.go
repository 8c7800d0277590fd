package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
)

// Rollouts by ring: the latest rollout covering a branch wins, an offer held
// is not republished until it is due for a refresh, and a rollout of an
// unpublished version or a bad ring or window is refused.
func TestRolloutRings(t *testing.T) {
	store(t)
	ctx := context.Background()
	r := postgres.Releases{Pool: testDB}
	for _, b := range []struct{ id, region string }{{"RO-001", "RM"}, {"RO-002", "RM"}, {"RO-003", "BIO"}, {"RO-004", "BIO"}} {
		_, err := testDB.Exec(ctx, `INSERT INTO branches (id, region) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET region = excluded.region`, b.id, b.region)
		require.NoError(t, err)
	}
	for _, v := range []string{"9.1.0", "9.2.0"} {
		require.NoError(t, r.AddArtifact(ctx, postgres.Artifact{Version: v, OS: "linux", Arch: "amd64", Manifest: []byte("{}"), Signature: []byte("s"), S3Key: "k/" + v}))
	}
	require.Error(t, r.AddArtifact(ctx, postgres.Artifact{Version: "9.1.0", OS: "linux", Arch: "amd64", Manifest: []byte("{}"), Signature: []byte("s"), S3Key: "x"}), "published once")

	_, err := r.StartRollout(ctx, postgres.Rollout{Version: "9.9.9", Ring: "all", Window: "always"})
	assert.ErrorContains(t, err, "not published")
	_, err = r.StartRollout(ctx, postgres.Rollout{Version: "9.1.0", Ring: "everyone", Window: "always"})
	assert.Error(t, err)
	_, err = r.StartRollout(ctx, postgres.Rollout{Version: "9.1.0", Ring: "all", Window: "12:00"})
	assert.Error(t, err)

	due := func(now time.Time) map[string]string {
		ds, err := r.DueOffers(ctx, now, time.Hour)
		require.NoError(t, err)
		m := map[string]string{}
		for _, d := range ds {
			if strings.HasPrefix(d.Branch, "RO-") {
				if d.Withdraw {
					m[d.Branch] = "withdraw " + d.Rollout.Version
					continue
				}
				m[d.Branch] = d.Rollout.Version
				require.Len(t, d.Artifacts, 1)
			}
		}
		return m
	}
	now := time.Now()
	_, err = r.StartRollout(ctx, postgres.Rollout{Version: "9.1.0", Ring: "region", Region: "BIO", Window: "22:00-06:00"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"RO-003": "9.1.0", "RO-004": "9.1.0"}, due(now))
	id, err := r.StartRollout(ctx, postgres.Rollout{Version: "9.2.0", Ring: "canary", Percent: 100, Window: "22:00-06:00"})
	require.NoError(t, err)
	got := due(now)
	assert.Equal(t, map[string]string{"RO-001": "9.2.0", "RO-002": "9.2.0", "RO-003": "9.2.0", "RO-004": "9.2.0"}, got, "the latest rollout wins")
	require.NoError(t, r.Offered(ctx, "RO-001", postgres.Rollout{ID: id, Version: "9.2.0"}, now))
	assert.NotContains(t, due(now), "RO-001", "held and fresh")
	assert.Contains(t, due(now.Add(2*time.Hour)), "RO-001", "refreshed before its URL expires")

	n, err := r.StopRollouts(ctx, "9.2.0")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	assert.Equal(t, map[string]string{"RO-001": "withdraw 9.2.0", "RO-003": "9.1.0", "RO-004": "9.1.0"}, due(now),
		"the stopped offer RO-001 holds is withdrawn")
	require.NoError(t, r.Withdrawn(ctx, "RO-001", id, now))
	assert.NotContains(t, due(now.Add(2*time.Hour)), "RO-001", "withdrawn once")
	boxes, err := r.Boxes(ctx)
	require.NoError(t, err)
	for _, b := range boxes {
		if b.Branch == "RO-001" {
			assert.Equal(t, "", b.Offered)
			assert.Equal(t, "9.2.0", b.Stopped)
		}
	}
	_, err = r.StopRollouts(ctx, "9.1.0")
	require.NoError(t, err)
}

func TestCanaryIsStable(t *testing.T) {
	in := 0
	for i := range 1000 {
		b := fmt.Sprintf("SCL-%04d", i)
		c := postgres.Canary(b, "2.0.0")
		assert.Equal(t, c, postgres.Canary(b, "2.0.0"))
		if (postgres.Rollout{Ring: "canary", Percent: 10, Version: "2.0.0"}).Covers(b, "") {
			in++
			assert.True(t, (postgres.Rollout{Ring: "canary", Percent: 25, Version: "2.0.0"}).Covers(b, ""), "widening keeps the first")
		}
	}
	assert.InDelta(t, 100, in, 50, "about 10 %% of 1,000")
}
