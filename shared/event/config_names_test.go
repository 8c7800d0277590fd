package event_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// configGolden compares a config snapshot with its golden file in
// testdata/config (rewritten with -update) and checks the file decodes back
// into the same, valid snapshot.
func configGolden(t *testing.T, c event.Config, name string) {
	t.Helper()
	got, err := json.MarshalIndent(c, "", "  ")
	require.NoError(t, err)
	path := filepath.Join("testdata", "config", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
	var back event.Config
	require.NoError(t, json.Unmarshal(want, &back))
	assert.Equal(t, c, back)
	assert.NoError(t, back.Validate())
}

// TestConfigNamesGolden pins the additive branch_name and region of the config
// snapshot; a snapshot without them (older clouds) still decodes and
// validates, and names the screens cannot show are refused.
func TestConfigNamesGolden(t *testing.T) {
	c := event.Config{V: 1, Branch: "SCL-001", Version: 4, TimeZone: "America/Santiago",
		Services: queue.DefaultServices()[:1], Counters: []queue.Counter{}, Executives: []event.ConfigExecutive{},
		Rules: event.DefaultRules(), BranchName: "Santiago Centro", Region: "Metropolitana"}
	configGolden(t, c, "config_names.json")

	var old event.Config
	require.NoError(t, json.Unmarshal([]byte(`{"v":1,"branch":"SCL-001","version":1,"time_zone":"America/Santiago","services":[],"counters":[],"executives":[],"rules":{}}`), &old))
	assert.NoError(t, old.Validate())
	assert.Empty(t, old.BranchName)

	for _, bad := range []event.Config{
		func() event.Config { b := c; b.BranchName = "Centro\n"; return b }(),
		func() event.Config { b := c; b.Region = string([]byte{0xff}); return b }(),
	} {
		assert.Error(t, bad.Validate(), "%q %q", bad.BranchName, bad.Region)
	}
}
