package cloud_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/ticketero/ticketero/cloud"

// listedPackage is the part of `go list -json` the layering rules read.
type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages runs `go list -json ./...` on the cloud module.
func listPackages(t *testing.T) map[string]listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs[p.ImportPath] = p
	}
	require.Contains(t, pkgs, module+"/web", "go list must see the whole module")
	return pkgs
}

func under(path, dir string) bool {
	return path == module+"/"+dir || strings.HasPrefix(path, module+"/"+dir+"/")
}

// TestSQLStaysInPostgres: only the PostgreSQL adapter (cloud/postgres/...)
// and the wiring (cloud/cmd/...) import pgx; the other packages reach the
// database through the interfaces of the cloud root package.
func TestSQLStaysInPostgres(t *testing.T) {
	for path, p := range listPackages(t) {
		if under(path, "postgres") || under(path, "cmd") {
			continue
		}
		for _, imp := range p.Imports {
			require.False(t, strings.HasPrefix(imp, "github.com/jackc/pgx"), "%s imports %s: SQL belongs in cloud/postgres", path, imp)
		}
	}
}

// TestServicesDoNotImportPostgres: these packages depend on interfaces, not
// on the PostgreSQL adapter, not even indirectly.
func TestServicesDoNotImportPostgres(t *testing.T) {
	pkgs := listPackages(t)
	// cloud/web is not listed yet: it still reads through *hq.Store and hq's
	// domain types (its only cloud/postgres import) rather than interfaces
	// with those types at the cloud root.
	for _, dir := range []string{"telegram", "retention", "enroll"} {
		p, ok := pkgs[module+"/"+dir]
		require.True(t, ok, dir)
		for _, dep := range p.Deps {
			require.False(t, under(dep, "postgres"), "%s depends on %s", p.ImportPath, dep)
			require.False(t, strings.HasPrefix(dep, "github.com/jackc/pgx"), "%s depends on %s", p.ImportPath, dep)
		}
	}
}
