package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOf is getenv over a map.
func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseEnrollEnv(t *testing.T) {
	c, err := ParseEnrollEnv(envOf(nil))
	require.NoError(t, err)
	assert.Empty(t, c.Provisioner, "enrolment disabled unless configured")

	c, err = ParseEnrollEnv(envOf(map[string]string{"TICKETERO_ENROLL_PROVISIONER": "local-ca",
		"TICKETERO_ENROLL_CA_CERT": "ca.pem", "TICKETERO_ENROLL_CA_KEY": "ca-key.pem",
		"TICKETERO_ENROLL_BROKER": "mqtts://broker:8883", "TICKETERO_ENROLL_VALIDITY": "720h"}))
	require.NoError(t, err)
	assert.Equal(t, 720*time.Hour, c.Validity)
	assert.Equal(t, "mqtts://broker:8883", c.Broker)

	c, err = ParseEnrollEnv(envOf(map[string]string{"TICKETERO_ENROLL_PROVISIONER": "aws-iot", "TICKETERO_IOT_POLICY": "p",
		"TICKETERO_IOT_CA_FILE": "root.pem", "TICKETERO_IOT_PORT": "443", "TICKETERO_IOT_THING_TYPE": "box"}))
	require.NoError(t, err)
	assert.Equal(t, 443, c.IoTPort)
	assert.Equal(t, "box", c.IoTThingType)

	// A bad value names the variable and the value; Validate's errors name the variable.
	for name, tc := range map[string]struct{ env map[string]string }{
		"TICKETERO_ENROLL_VALIDITY": {map[string]string{"TICKETERO_ENROLL_VALIDITY": "ninety days"}},
		"TICKETERO_IOT_PORT": {map[string]string{"TICKETERO_ENROLL_PROVISIONER": "aws-iot", "TICKETERO_IOT_POLICY": "p",
			"TICKETERO_IOT_CA_FILE": "x", "TICKETERO_IOT_PORT": "eight"}},
		"TICKETERO_ENROLL_PROVISIONER": {map[string]string{"TICKETERO_ENROLL_PROVISIONER": "vault"}},
	} {
		_, err := ParseEnrollEnv(envOf(tc.env))
		require.Error(t, err, name)
		assert.ErrorContains(t, err, name)
		assert.ErrorContains(t, err, tc.env[name])
	}
}

// TestCloudEnvErrorsNeverDropped: every reader of the cloud's environment
// refuses a bad value with an error naming the variable and the value.
func TestCloudEnvErrorsNeverDropped(t *testing.T) {
	readers := map[string]func(func(string) string) error{
		"web":       func(g func(string) string) error { _, err := ParseWebEnv(g); return err },
		"retention": func(g func(string) string) error { _, err := ParseRetentionEnv(g); return err },
		"alerts":    func(g func(string) string) error { _, err := ParseAlertEnv(g); return err },
	}
	for _, tc := range []struct{ reader, name, value string }{
		{"web", "TICKETERO_INSECURE_COOKIES", "maybe"},
		{"web", "TICKETERO_TRUST_PROXY", "yes please"},
		{"web", "TICKETERO_TRUSTED_PROXY_HOPS", "two"},
		{"web", "TICKETERO_RUT_KEY_FILE", "/nonexistent/rut-key"},
		{"web", "TICKETERO_ADMIN_PASSWORD_FILE", "/nonexistent/admin-password"},
		{"retention", "TICKETERO_RETENTION_DAYS", "a month"},
		{"alerts", "TICKETERO_ALERT_OFFLINE_MINUTES", "five"},
		{"alerts", "TICKETERO_ALERT_STALLED_AFTER", "later"},
	} {
		err := readers[tc.reader](envOf(map[string]string{tc.name: tc.value}))
		require.Error(t, err, tc.name)
		assert.ErrorContains(t, err, tc.name)
		assert.ErrorContains(t, err, tc.value)
	}
}

func TestParseSMSEnv(t *testing.T) {
	c, err := parseSMSEnv(envOf(nil))
	require.NoError(t, err)
	assert.False(t, c.Enabled, "SMS off unless configured")

	c, err = parseSMSEnv(envOf(map[string]string{"TICKETERO_SMS": "sns", "TICKETERO_SNS_SENDER_ID": "BancoCL", "TICKETERO_SNS_RATE": "2.5"}))
	require.NoError(t, err)
	assert.True(t, c.Enabled)
	assert.Equal(t, "BancoCL", c.SenderID)
	assert.Equal(t, 2.5, c.Rate)

	for k, v := range map[string]string{"TICKETERO_SMS": "yes", "TICKETERO_SNS_SENDER_ID": "Banco de Chile", "TICKETERO_SNS_RATE": "fast",
		"TICKETERO_SNS_MAX_PRICE": "free"} {
		_, err := parseSMSEnv(envOf(map[string]string{"TICKETERO_SMS": "sns", k: v}))
		require.Error(t, err, k)
		assert.ErrorContains(t, err, k)
		assert.ErrorContains(t, err, v)
	}
}

// TestParseServeReadsEveryPart: serve's one configuration holds the parts
// read from env only, and a bad value in several parts is reported at once,
// each naming its variable and value.
func TestParseServeReadsEveryPart(t *testing.T) {
	base := map[string]string{"TICKETERO_DB": "postgres://x/y", "TICKETERO_MQTT": "ssl://h:443",
		"TICKETERO_MQTT_CERT": "c", "TICKETERO_MQTT_KEY": "k", "TICKETERO_MQTT_CA": "a"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	c, err := ParseServe(nil, envOf(with(map[string]string{"TICKETERO_TRUSTED_PROXY_HOPS": "2",
		"TICKETERO_ALERT_EVERY": "2s", "TICKETERO_RETENTION_DAYS": "90", "TICKETERO_TELEGRAM_BOT": "BancoBot",
		"TICKETERO_SMS": "sns", "TICKETERO_SNS_SENDER_ID": "BancoCL", "TICKETERO_RELEASE_BUCKET": "rel",
		"TICKETERO_ROLLOUT_EVERY": "1m", "TICKETERO_ENROLL_PROVISIONER": ""})))
	require.NoError(t, err)
	assert.Equal(t, 2, c.Web.ProxyHops)
	assert.Equal(t, 2*time.Second, c.Alerts.Every)
	assert.Equal(t, 90, c.Retention.Days)
	assert.Equal(t, "BancoBot", c.Telegram.BotName)
	assert.True(t, c.SMS.Enabled)
	assert.Equal(t, RolloutConfig{Bucket: "rel", Every: time.Minute}, c.Rollout)
	assert.Empty(t, c.Enroll.Provisioner)

	bad := map[string]string{"TICKETERO_TRUSTED_PROXY_HOPS": "two", "TICKETERO_ALERT_EVERY": "soon",
		"TICKETERO_RETENTION_DAYS": "a month", "TICKETERO_ENROLL_VALIDITY": "a year",
		"TICKETERO_TELEGRAM_RATE": "fast", "TICKETERO_SMS": "carrier pigeon", "TICKETERO_ROLLOUT_EVERY": "often",
		"TICKETERO_WORKERS": "many"}
	_, err = ParseServe(nil, envOf(with(bad)))
	require.Error(t, err)
	for k, v := range bad {
		assert.ErrorContains(t, err, k)
		assert.ErrorContains(t, err, v)
	}
}

// TestServeReadsEnvOnce: the serve command's wiring takes its configuration
// from Config; only the command switch (run) and the other subcommands read
// the environment. A new os.Getenv in a new* builder fails here.
func TestServeReadsEnvOnce(t *testing.T) {
	readers := map[string]bool{"run": true, "enrollCodeCommand": true, "releaseCommand": true,
		"register": true, "userCommand": true, "tokenCommand": true}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv" || sel.Sel.Name == "Environ") {
					assert.True(t, readers[fn.Name.Name], "%s: %s reads the environment (os.%s): read it in ParseServe's readEnv and take it from Config",
						fset.Position(sel.Pos()), fn.Name.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}
