package deploytest

import (
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
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

// stringVars returns the package-level variables of the Go package in dir
// that `go build -ldflags -X` can set: declared without a type or as string,
// initialised with nothing or a string constant (the linker ignores -X for
// any other, silently).
func stringVars(tb testing.TB, dir string) map[string]bool {
	tb.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	require.NoError(tb, err)
	vars := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		require.NoError(tb, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				v := s.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); v.Type != nil && (!ok || id.Name != "string") {
					continue
				}
				for i, name := range v.Names {
					if i < len(v.Values) {
						if lit, ok := v.Values[i].(*ast.BasicLit); !ok || lit.Kind != token.STRING {
							continue
						}
					} else if v.Type == nil {
						continue
					}
					vars[name.Name] = true
				}
			}
		}
	}
	return vars
}

// TestDockerfileLdflagsNameVariables: every -X the image build stamps names
// a string variable that exists in the package it builds. The linker ignores
// an unknown name without a word, which is how images logged version "dev".
func TestDockerfileLdflagsNameVariables(t *testing.T) {
	raw, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	builds := 0
	xflag := regexp.MustCompile(`-X[ =]([^ "'=]+)\.([A-Za-z_][A-Za-z0-9_]*)=`)
	for _, st := range parseDockerfile(t, string(raw)) {
		for _, in := range st.Body {
			if in.Cmd != "RUN" || !strings.Contains(in.Args, "go build") {
				continue
			}
			builds++
			pkgs := regexp.MustCompile(`\s(\./\S+)\s*$`).FindStringSubmatch(in.Args)
			require.NotNil(t, pkgs, "line %d: go build names no package last", in.Line)
			vars := stringVars(t, filepath.Join(repoRoot, pkgs[1]))
			sets := xflag.FindAllStringSubmatch(in.Args, -1)
			require.NotEmpty(t, sets, "line %d: the image stamps its version", in.Line)
			for _, m := range sets {
				assert.Equal(t, "main", m[1], "line %d: -X %s.%s", in.Line, m[1], m[2])
				assert.True(t, vars[m[2]], "line %d: -X main.%s: %s has no string variable %s (it has %v)",
					in.Line, m[2], pkgs[1], m[2], vars)
			}
		}
	}
	assert.Equal(t, 1, builds)
}

// TestStringVarsCatches: the variable finder above tells a settable variable
// from the rest.
func TestStringVarsCatches(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main
var Version = "dev"
var typed string
var (
	count = 3
	fromCall = f()
	typedInt int
)
const Const = "x"
func f() string { return "" }
`), 0o644))
	assert.Equal(t, map[string]bool{"Version": true, "typed": true}, stringVars(t, dir))
}

// TestDockerfileRemoteSourcesVerified: every file the build fetches from the
// network is checked against a pinned SHA-256 before it is used, and the
// check really refuses: the Dockerfile's own RUN runs here with the right,
// a wrong and a missing hash.
func TestDockerfileRemoteSourcesVerified(t *testing.T) {
	raw, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	fetched := 0
	for _, st := range parseDockerfile(t, string(raw)) {
		for i, in := range st.Body {
			if in.Cmd != "ADD" {
				continue
			}
			c := parseCopy(in)
			remote := false
			for _, s := range c.Sources {
				remote = remote || strings.Contains(s, "://")
			}
			if !remote {
				continue
			}
			fetched++
			if strings.Contains(in.Args, "--checksum=sha256:") {
				assert.Regexp(t, `--checksum=sha256:[0-9a-f]{64}\s`, in.Args, "line %d", in.Line)
				continue
			}
			// Otherwise the next instruction must be the check.
			require.Less(t, i+1, len(st.Body), "line %d: nothing checks %s", in.Line, c.Dest)
			check := st.Body[i+1]
			require.Equal(t, "RUN", check.Cmd, "line %d: %s is not checked right after it is fetched", in.Line, c.Dest)
			require.Contains(t, check.Args, "sha256sum -c", "line %d", check.Line)
			m := regexp.MustCompile(`\$\{(\w+)\}\s+` + regexp.QuoteMeta(c.Dest)).FindStringSubmatch(check.Args)
			require.NotNil(t, m, "line %d: the check names %s and the hash variable", check.Line, c.Dest)
			hashVar := m[1]
			assert.Regexp(t, `(?m)^ARG `+hashVar+`$`, string(raw), "the hash is a build argument without a default")

			file := filepath.Join(t.TempDir(), "bundle.pem")
			content := []byte("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n")
			require.NoError(t, os.WriteFile(file, content, 0o644))
			sum := sha256.Sum256(content)
			script := strings.ReplaceAll(check.Args, c.Dest, file)
			runCheck := func(hash string) (string, error) {
				cmd := exec.Command("sh", "-c", script)
				cmd.Env = append(os.Environ(), hashVar+"="+hash)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			out, err := runCheck(hex.EncodeToString(sum[:]))
			assert.NoError(t, err, "the right hash passes: %s", out)
			info, err := os.Stat(file)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o444), info.Mode().Perm(), "the bundle ends read-only")
			wrong := sha256.Sum256([]byte("tampered"))
			for name, hash := range map[string]string{"wrong": hex.EncodeToString(wrong[:]), "missing": "", "not hex": strconv.Quote("x")} {
				out, err := runCheck(hash)
				assert.Error(t, err, "%s hash must fail the build: %s", name, out)
			}
		}
	}
	assert.Equal(t, 1, fetched, "the RDS CA bundle")
}

// TestDockerfileBaseImages: each FROM names a tag (never :latest or none),
// and a digest, when one is given, is a full sha256.
func TestDockerfileBaseImages(t *testing.T) {
	raw, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	for _, st := range parseDockerfile(t, string(raw)) {
		ref := st.Base
		name, digest, pinned := strings.Cut(ref, "@")
		if pinned {
			assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, digest, ref)
		}
		_, tag, ok := strings.Cut(name[strings.LastIndex(name, "/")+1:], ":")
		assert.True(t, ok && tag != "" && tag != "latest", "%s: pin a version tag (and a digest in the release pipeline)", ref)
	}
}

// TestDockerfileToolchain: the builder may switch to go.work's toolchain
// line (the release with the standard library's security fixes) even though
// the golang image pins GOTOOLCHAIN=local.
func TestDockerfileToolchain(t *testing.T) {
	raw, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	work, err := os.ReadFile(filepath.Join(repoRoot, "go.work"))
	require.NoError(t, err)
	assert.NotRegexp(t, `(?m)^toolchain `, string(work), "go.work names no toolchain: a developer's build never downloads one")
	build := parseDockerfile(t, string(raw))[0]
	found := false
	for _, in := range build.Body {
		if in.Cmd == "ENV" && regexp.MustCompile(`(^|\s)GOTOOLCHAIN=go1\.26\.(\d+)(\s|$)`).MatchString(in.Args) {
			m := regexp.MustCompile(`GOTOOLCHAIN=go1\.26\.(\d+)`).FindStringSubmatch(in.Args)
			patch, _ := strconv.Atoi(m[1])
			found = patch >= 10 // the release with the standard library's fixes (docs/security.md)
		}
	}
	assert.True(t, found, "ENV GOTOOLCHAIN=go1.26.10 or later in the build stage")
}
