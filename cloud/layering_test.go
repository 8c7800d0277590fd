package cloud_test

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/ticketero/ticketero/cloud"

// listedPackage is the part of `go list -json` the layering rules read.
type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
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

// postgresExempt lists the packages outside cloud/postgres/... and
// cloud/cmd/... that may still depend on the PostgreSQL adapter, each with
// the reason. An entry that no longer needs it fails the test, so the list
// only shrinks.
var postgresExempt = map[string]string{}

// TestServicesDoNotImportPostgres: every package of the module other than
// the adapter (cloud/postgres/...), the wiring (cloud/cmd/...) and the
// exemptions above depends on the interfaces and types of the cloud root,
// not on the PostgreSQL adapter or pgx, not even indirectly. The rule is on
// what a package builds into a binary (go list's Deps leave out _test.go
// files): tests, the e2e package (tests only) and test files of any package
// may set up a real database through cloud/postgres.
func TestServicesDoNotImportPostgres(t *testing.T) {
	pkgs := listPackages(t)
	for _, dir := range []string{"web", "telegram", "retention", "enroll", "rollout", "sns", "ingest", "sqs", "mqtt", "http"} {
		require.Contains(t, pkgs, module+"/"+dir, "%s must be checked", dir)
	}
	for dir := range postgresExempt {
		require.Contains(t, pkgs, module+"/"+dir, "exempt package %s no longer exists: remove its exemption", dir)
	}
	for path, p := range pkgs {
		if under(path, "postgres") || under(path, "cmd") {
			continue
		}
		dir := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		if _, ok := postgresExempt[dir]; ok {
			uses := false
			for _, dep := range p.Deps {
				uses = uses || under(dep, "postgres")
			}
			require.True(t, uses, "%s no longer depends on cloud/postgres: remove its exemption", path)
			continue
		}
		for _, dep := range p.Deps {
			require.False(t, under(dep, "postgres"), "%s depends on %s: depend on an interface at the cloud root instead", path, dep)
			require.False(t, strings.HasPrefix(dep, "github.com/jackc/pgx"), "%s depends on %s", path, dep)
		}
	}
}

// TestConfigurationReadInCmd: only the binaries (cloud/cmd/...) read the
// environment; every other package is given its configuration. Test
// harness packages (named ...test) may read CI switches.
func TestConfigurationReadInCmd(t *testing.T) {
	fset := token.NewFileSet()
	for path, p := range listPackages(t) {
		if under(path, "cmd") || strings.HasSuffix(p.Name, "test") {
			continue
		}
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" {
						switch sel.Sel.Name {
						case "Getenv", "LookupEnv", "Environ":
							t.Errorf("%s: os.%s: read configuration in cmd and pass it in", fset.Position(sel.Pos()), sel.Sel.Name)
						}
					}
				}
				return true
			})
		}
	}
}
