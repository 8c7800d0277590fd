package envflag_test

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/envflag"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

type config struct {
	Branch, DB, Cert string
	Counters         int
	Plain            bool
	Timeout          time.Duration
}

func parse(args []string, vars map[string]string) (config, error) {
	c := config{Branch: "SCL-001", Counters: 6, Timeout: 10 * time.Second}
	s := envflag.New("serve", env(vars), io.Discard)
	s.String(&c.Branch, "branch", "", "branch ID")
	s.Secret(&c.DB, "db", "", "database URL")
	s.String(&c.Cert, "cert", "TICKETERO_MQTT_CERT", "client certificate")
	s.Int(&c.Counters, "counters", "", "counters")
	s.Bool(&c.Plain, "plain-http", "", "plain HTTP")
	s.Duration(&c.Timeout, "ack-timeout", "", "ack timeout")
	return c, s.Parse(args)
}

func TestName(t *testing.T) {
	assert.Equal(t, "TICKETERO_DATA_KEY_FILE", envflag.Name("data-key-file"))
}

func TestFlagsOverEnvOverDefaults(t *testing.T) {
	c, err := parse(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, config{Branch: "SCL-001", Counters: 6, Timeout: 10 * time.Second}, c, "defaults")

	vars := map[string]string{"TICKETERO_BRANCH": "VAL-002", "TICKETERO_COUNTERS": "8", "TICKETERO_PLAIN_HTTP": "true",
		"TICKETERO_ACK_TIMEOUT": "3s", "TICKETERO_MQTT_CERT": "/etc/c.pem", "TICKETERO_DB": "postgres://x/y"}
	c, err = parse(nil, vars)
	require.NoError(t, err)
	assert.Equal(t, config{Branch: "VAL-002", DB: "postgres://x/y", Cert: "/etc/c.pem", Counters: 8, Plain: true, Timeout: 3 * time.Second}, c)

	c, err = parse([]string{"--branch", "CON-003", "--counters", "2", "--plain-http=false", "--cert", "/tmp/c"}, vars)
	require.NoError(t, err)
	assert.Equal(t, "CON-003", c.Branch, "a flag wins over its variable")
	assert.Equal(t, 2, c.Counters)
	assert.False(t, c.Plain)
	assert.Equal(t, "/tmp/c", c.Cert)
}

func TestSecretFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "db")
	require.NoError(t, os.WriteFile(f, []byte("postgres://from/file\n"), 0o600))
	c, err := parse(nil, map[string]string{"TICKETERO_DB_FILE": f})
	require.NoError(t, err)
	assert.Equal(t, "postgres://from/file", c.DB, "the file's content, trimmed")

	c, err = parse(nil, map[string]string{"TICKETERO_DB_FILE": f, "TICKETERO_DB": "postgres://direct"})
	require.NoError(t, err)
	assert.Equal(t, "postgres://direct", c.DB, "the variable wins over its file")

	_, err = parse(nil, map[string]string{"TICKETERO_DB_FILE": "/nonexistent/db"})
	require.Error(t, err, "an unreadable file is never an empty value")
	assert.ErrorContains(t, err, "TICKETERO_DB_FILE")
	assert.ErrorContains(t, err, "/nonexistent/db")
}

func TestBadValuesNameTheVariableAndValue(t *testing.T) {
	for name, v := range map[string]string{"TICKETERO_COUNTERS": "many", "TICKETERO_PLAIN_HTTP": "maybe", "TICKETERO_ACK_TIMEOUT": "ten"} {
		c, err := parse(nil, map[string]string{name: v})
		require.Error(t, err, name)
		assert.ErrorContains(t, err, name)
		assert.ErrorContains(t, err, `"`+v+`"`)
		assert.ErrorContains(t, err, "(--", "and its flag")
		assert.Equal(t, 6, c.Counters, "the default is kept")
	}
	// Every bad variable is reported, not only the first.
	_, err := parse(nil, map[string]string{"TICKETERO_COUNTERS": "many", "TICKETERO_ACK_TIMEOUT": "ten"})
	assert.ErrorContains(t, err, "TICKETERO_COUNTERS")
	assert.ErrorContains(t, err, "TICKETERO_ACK_TIMEOUT")

	_, err = parse([]string{"--counters", "x"}, nil)
	assert.ErrorContains(t, err, "counters")
	_, err = parse([]string{"stray"}, nil)
	assert.ErrorContains(t, err, `unexpected argument "stray"`)
	_, err = parse([]string{"-h"}, nil)
	assert.True(t, errors.Is(err, flag.ErrHelp))
}

func TestEnvFloat(t *testing.T) {
	e := envflag.NewEnv(env(map[string]string{"TICKETERO_RATE": "2.5", "TICKETERO_BAD": "fast"}))
	r, bad := 10.0, 10.0
	e.Float(&r, "TICKETERO_RATE")
	e.Float(&bad, "TICKETERO_BAD")
	assert.Equal(t, 2.5, r)
	assert.Equal(t, 10.0, bad, "a bad value leaves the default")
	assert.EqualError(t, e.Err(), `TICKETERO_BAD: "fast" is not a number`)
}

func TestEnvInvalid(t *testing.T) {
	e := envflag.NewEnv(env(nil))
	require.NoError(t, e.Err())
	e.Invalid("TICKETERO_TRUSTED_PROXY_HOPS", "11", "a number from 0 to 10")
	assert.EqualError(t, e.Err(), `TICKETERO_TRUSTED_PROXY_HOPS: "11" is not a number from 0 to 10`)
}
