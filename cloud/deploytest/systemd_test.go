package deploytest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const unitPath = deployDir + "/systemd/ticketero-agent.service"

// unitFile is a systemd unit: section → key → values in order (a key may repeat).
type unitFile map[string]map[string][]string

func parseUnit(tb testing.TB, raw string) unitFile {
	tb.Helper()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		require.True(tb, ok && section != "", "line %d: %q", n, line)
		u[section][key] = append(u[section][key], value)
	}
	return u
}

func (u unitFile) last(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func TestAgentUnit(t *testing.T) {
	raw, err := os.ReadFile(unitPath)
	require.NoError(t, err)
	u := parseUnit(t, string(raw))

	for key, want := range map[string]string{
		"Restart":                 "always",
		"User":                    "ticketero",
		"EnvironmentFile":         "/etc/ticketero/agent.env",
		"ExecStart":               "/usr/local/bin/ticketero-agent serve",
		"StateDirectory":          "ticketero",
		"ReadWritePaths":          "/var/lib/ticketero",
		"ProtectSystem":           "strict",
		"ProtectHome":             "true",
		"PrivateTmp":              "true",
		"PrivateDevices":          "true",
		"NoNewPrivileges":         "true",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
		"RestrictSUIDSGID":        "true",
		"ProtectKernelTunables":   "true",
		"ProtectKernelModules":    "true",
		"ProtectControlGroups":    "true",
		"RestrictNamespaces":      "true",
		"LockPersonality":         "true",
		"MemoryDenyWriteExecute":  "true",
		"SystemCallArchitectures": "native",
		"UMask":                   "0077",
	} {
		got, ok := u["Service"][key]
		if assert.True(t, ok, "[Service] %s missing", key) {
			assert.Equal(t, want, got[len(got)-1], key)
		}
	}
	assert.Equal(t, "0", u.last("Unit", "StartLimitIntervalSec"), "a branch box never gives up restarting")
	assert.Contains(t, u.last("Unit", "After"), "network-online.target")
	assert.Equal(t, "multi-user.target", u.last("Install", "WantedBy"))
	// The data directory the agent writes (SQLite, keys, renewed certificates)
	// is the one it is allowed to write.
	assert.Equal(t, "TICKETERO_DATA=/var/lib/ticketero", u.last("Service", "Environment"))
	assert.Equal(t, "/var/lib/ticketero", u.last("Service", "WorkingDirectory"))

	t.Run("env example", func(t *testing.T) {
		raw, err := os.ReadFile(deployDir + "/systemd/agent.env.example")
		require.NoError(t, err)
		for _, line := range strings.Split(string(raw), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, line)
			assert.True(t, strings.HasPrefix(k, "TICKETERO_"), k)
			if strings.HasSuffix(k, "_CERT") || strings.HasSuffix(k, "_KEY") || strings.HasSuffix(k, "_CA") || strings.HasSuffix(k, "_FILE") {
				// Written by enrolment and renewal, so inside the writable data directory.
				assert.True(t, strings.HasPrefix(v, "/var/lib/ticketero/"), "%s=%s", k, v)
			}
		}
	})
}

// TestAgentUnitSystemdAnalyze runs systemd's own checks when systemd-analyze
// is installed: verify (syntax, directives this systemd knows) and the
// offline security review, whose exposure score must stay "OK" (< 2.0 of 10).
func TestAgentUnitSystemdAnalyze(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	raw, err := os.ReadFile(unitPath)
	require.NoError(t, err)
	// verify wants the binary and the environment file to exist; point them
	// at ones that do, the rest of the unit unchanged.
	unit := strings.Replace(string(raw), "ExecStart=/usr/local/bin/ticketero-agent", "ExecStart=/bin/true", 1)
	unit = strings.Replace(unit, "EnvironmentFile=/etc/ticketero/agent.env", "EnvironmentFile=-/etc/ticketero/agent.env", 1)
	require.NotEqual(t, string(raw), unit)
	path := filepath.Join(t.TempDir(), "ticketero-agent.service")
	require.NoError(t, os.WriteFile(path, []byte(unit), 0o644))

	out, err := exec.Command(bin, "verify", path).CombinedOutput()
	assert.NoError(t, err, "systemd-analyze verify:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify warns")

	out, err = exec.Command(bin, "security", "--offline=true", "--no-pager", path).CombinedOutput()
	if err != nil && strings.Contains(string(out), "offline") {
		t.Skipf("this systemd-analyze has no offline security review: %s", out)
	}
	m := regexp.MustCompile(`Overall exposure level for ticketero-agent\.service: ([0-9.]+)`).FindStringSubmatch(string(out))
	require.NotNil(t, m, "security review output:\n%s", out)
	score, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	t.Logf("systemd exposure score: %.1f (0 = fully sandboxed, 10 = unprotected)", score)
	assert.Less(t, score, 2.0)
}
