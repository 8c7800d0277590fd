package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestManagerRoleCommand grants and revokes the branch manager role with the
// admin command and checks the running agent honours it at the next sign-in
// on the branch page.
func TestManagerRoleCommand(t *testing.T) {
	data := t.TempDir()
	env := func(k string) string { return map[string]string{"TICKETERO_DATA": data}[k] }
	var out, errb bytes.Buffer
	ctx := context.Background()
	require.Equal(t, 0, run(ctx, []string{"executive", "add", "--id", "G01", "--name", "Marta Rojas", "--pin", "739150", "--services", "C", "--manager"}, &out, &errb, env), errb.String())
	require.Equal(t, 0, run(ctx, []string{"executive", "add", "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C"}, &out, &errb, env), errb.String())
	out.Reset()
	require.Equal(t, 0, run(ctx, []string{"executive", "list"}, &out, &errb, env))
	assert.Regexp(t, `G01\s+Marta Rojas\s+C\s+ok\s+sí\n`, out.String())
	assert.Regexp(t, `E01\s+Ana Pérez\s+C\s+ok\s+-\n`, out.String())
	errb.Reset()
	require.Equal(t, 1, run(ctx, []string{"executive", "set-manager", "--id", "G01", "--manager=true"}, &out, &errb, env))
	assert.Contains(t, errb.String(), `El rol de jefe de sucursal de "G01" ya estaba así.`)
	require.Equal(t, 1, run(ctx, []string{"executive", "set-manager", "--id", "X9", "--manager=true"}, &out, &errb, env))

	m := NewMain()
	m.Config.Data, m.Config.HTTP, m.Stdout = data, "127.0.0.1:0", io.Discard
	require.NoError(t, m.Run(ctx))
	defer m.Close()
	c := newClient(t, m.Addr)
	r := c.do("POST", "/api/v1/manager/sessions", `{"executive":"E01","pin":"240681"}`)
	assert.Equal(t, 403, r.status, "an executive without the role")
	r = c.do("POST", "/api/v1/manager/sessions", `{"executive":"G01","pin":"739150"}`)
	require.Equal(t, 201, r.status)
	// Granted while the agent runs: seen at the next sign-in.
	require.Equal(t, 0, run(ctx, []string{"executive", "set-manager", "--id", "E01", "--manager=true"}, &out, &errb, env), errb.String())
	assert.Equal(t, 201, c.do("POST", "/api/v1/manager/sessions", `{"executive":"E01","pin":"240681"}`).status)
	require.Equal(t, 0, run(ctx, []string{"executive", "set-manager", "--id", "G01", "--manager=false"}, &out, &errb, env), errb.String())
	assert.Equal(t, 403, c.do("POST", "/api/v1/manager/sessions", `{"executive":"G01","pin":"739150"}`).status)
}
