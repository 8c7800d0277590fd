package deploytest

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	dockerfilePath   = deployDir + "/Dockerfile"
	dockerignorePath = deployDir + "/Dockerfile.dockerignore"
	repoRoot         = "../.." // the build context
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, COPY, RUN...
	Args string
	Line int
}

// stage is one FROM ... [AS name] and its instructions.
type stage struct {
	Base, Name string
	Body       []instruction
}

func parseDockerfile(tb testing.TB, raw string) []stage {
	tb.Helper()
	var (
		stages []stage
		buf    strings.Builder
		start  int
	)
	flush := func() {
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := stage{}
			for i := 0; i < len(f); i++ {
				switch {
				case strings.HasPrefix(f[i], "--"):
				case strings.EqualFold(f[i], "AS") && i+1 < len(f):
					st.Name = f[i+1]
					i++
				case st.Base == "":
					st.Base = f[i]
				}
			}
			stages = append(stages, st)
			return
		}
		require.NotEmpty(tb, stages, "line %d: %s before any FROM", in.Line, in.Cmd)
		stages[len(stages)-1].Body = append(stages[len(stages)-1].Body, in)
	}
	sc := bufio.NewScanner(strings.NewReader(raw))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if buf.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = n
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			buf.WriteString(cont + " ")
			continue
		}
		buf.WriteString(line)
		flush()
	}
	flush()
	return stages
}

// copySpec is a COPY or ADD: flags (--from=build), sources and destination.
type copySpec struct {
	From    string
	Sources []string
	Dest    string
}

func parseCopy(in instruction) copySpec {
	var c copySpec
	var rest []string
	for _, f := range strings.Fields(in.Args) {
		if v, ok := strings.CutPrefix(f, "--from="); ok {
			c.From = v
		} else if !strings.HasPrefix(f, "--") {
			rest = append(rest, f)
		}
	}
	if len(rest) > 0 {
		c.Sources, c.Dest = rest[:len(rest)-1], rest[len(rest)-1]
	}
	return c
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	stages := parseDockerfile(t, string(raw))
	require.Len(t, stages, 2, "multi-stage: build, run")
	build, run := stages[0], stages[len(stages)-1]

	t.Run("build stage", func(t *testing.T) {
		assert.Equal(t, "golang:1.26", build.Base)
		assert.Equal(t, "build", build.Name)
		var all strings.Builder
		for _, in := range build.Body {
			all.WriteString(in.Cmd + " " + in.Args + "\n")
		}
		assert.Contains(t, all.String(), "CGO_ENABLED=0", "the cloud is pure Go (pgx)")
		assert.Regexp(t, `go build .* \./cloud/cmd/ticketero-cloud`, all.String())
	})

	t.Run("final stage", func(t *testing.T) {
		assert.Regexp(t, `^(gcr\.io/distroless/static|scratch)`, run.Base, "small final image")
		var user string
		cmds := map[string]bool{}
		for _, in := range run.Body {
			cmds[in.Cmd] = true
			switch in.Cmd {
			case "USER":
				user = in.Args
			case "COPY", "ADD":
				// Nothing reaches the final image from the context directly.
				assert.Equal(t, "build", parseCopy(in).From, "line %d", in.Line)
			}
		}
		require.NotEmpty(t, user, "final USER")
		name, _, _ := strings.Cut(user, ":")
		assert.NotContains(t, []string{"root", "0"}, name)
		assert.Equal(t, "nonroot:nonroot", user)
		assert.False(t, cmds["HEALTHCHECK"], "the ALB checks /readyz")
		assert.False(t, cmds["RUN"], "distroless has no shell")
		assert.True(t, cmds["EXPOSE"] && cmds["ENTRYPOINT"])
		for _, in := range run.Body {
			if in.Cmd == "EXPOSE" {
				assert.Equal(t, "8080", in.Args)
			}
		}
	})

	t.Run("stages referenced exist", func(t *testing.T) {
		names := map[string]bool{}
		for _, st := range stages {
			for _, in := range st.Body {
				if in.Cmd == "COPY" {
					if from := parseCopy(in).From; from != "" {
						assert.True(t, names[from], "line %d: --from=%s names no earlier stage", in.Line, from)
					}
				}
			}
			names[st.Name] = true
		}
	})

	t.Run("no secrets", func(t *testing.T) {
		text := string(raw)
		assert.NotRegexp(t, `AKIA[0-9A-Z]{16}|PRIVATE KEY-----|aws_secret_access_key`, text)
		secretName := regexp.MustCompile(`(?i)(password|secret|token|passwd|_key\b|apikey)`)
		for _, st := range stages {
			for _, in := range st.Body {
				switch in.Cmd {
				case "ENV", "ARG":
					assert.NotRegexp(t, secretName, in.Args, "line %d: secrets come from Secrets Manager at run time", in.Line)
				case "COPY", "ADD":
					c := parseCopy(in)
					if c.From != "" {
						continue
					}
					for _, src := range c.Sources {
						if strings.HasPrefix(src, "https://") {
							continue
						}
						assert.NotRegexp(t, `\.dev|\.pem$|\.key$|\.env$`, src, "line %d", in.Line)
					}
				}
			}
		}
	})

	t.Run("copy sources exist", func(t *testing.T) {
		for _, in := range build.Body {
			if in.Cmd != "COPY" {
				continue
			}
			c := parseCopy(in)
			if c.From != "" {
				continue
			}
			matched := 0
			for _, src := range c.Sources {
				m, err := filepath.Glob(filepath.Join(repoRoot, src))
				require.NoError(t, err)
				if !strings.ContainsAny(src, "*?[") {
					assert.NotEmpty(t, m, "line %d: %s not in the repository", in.Line, src)
				}
				matched += len(m)
			}
			assert.Positive(t, matched, "line %d: COPY matches nothing", in.Line)
		}
	})
}

// dockerignore is a .dockerignore: the last pattern that matches a path (or
// one of its parent directories) decides; "!" re-includes.
type dockerignore []struct {
	re      *regexp.Regexp
	include bool
}

func parseDockerignore(tb testing.TB, raw string) dockerignore {
	tb.Helper()
	var d dockerignore
	for _, line := range strings.Split(raw, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		include := strings.HasPrefix(line, "!")
		pat := path.Clean(strings.TrimPrefix(strings.TrimPrefix(line, "!"), "/"))
		var b strings.Builder
		for i := 0; i < len(pat); i++ {
			switch {
			case strings.HasPrefix(pat[i:], "**"):
				b.WriteString(".*")
				i++
			case pat[i] == '*':
				b.WriteString("[^/]*")
			case pat[i] == '?':
				b.WriteString("[^/]")
			default:
				b.WriteString(regexp.QuoteMeta(pat[i : i+1]))
			}
		}
		d = append(d, struct {
			re      *regexp.Regexp
			include bool
		}{regexp.MustCompile("^" + b.String() + "$"), include})
	}
	return d
}

func (d dockerignore) excluded(p string) bool {
	out := false
	for _, rule := range d {
		for q := p; q != "." && q != "/"; q = path.Dir(q) {
			if rule.re.MatchString(q) {
				out = !rule.include
				break
			}
		}
	}
	return out
}

func loadDockerignore(tb testing.TB) dockerignore {
	raw, err := os.ReadFile(dockerignorePath)
	require.NoError(tb, err)
	return parseDockerignore(tb, string(raw))
}

func TestDockerignore(t *testing.T) {
	d := loadDockerignore(t)
	for _, p := range []string{"go.work", "go.work.sum", "shared/go.mod", "shared/event/topic.go", "migrations/postgres/00001_initial.sql",
		"cloud/go.mod", "cloud/cmd/ticketero-cloud/main.go", "agent/go.mod", "agent/go.sum"} {
		assert.False(t, d.excluded(p), "%s must reach the build", p)
	}
	for _, p := range []string{".dev/pki/ca-key.pem", ".git/config", "bin/ticketero-cloud", "agent/agent.go",
		"agent/sqlite/store.go", "cloud/mqtt/mqtt.test", "deploy/Dockerfile"} {
		assert.True(t, d.excluded(p), "%s must stay out of the context", p)
	}
}

// TestDockerBuildContext stages what the Dockerfile copies (through the
// dockerignore) into a temporary directory and resolves the cloud command's
// packages there for linux/arm64 without cgo: what `go build` in the
// builder would see (modules come from the cache or the proxy, as after the
// builder's `go mod download`). There is no Docker engine here.
func TestDockerBuildContext(t *testing.T) {
	_, err := os.Stat(filepath.Join(repoRoot, "cloud/cmd/ticketero-cloud"))
	require.NoError(t, err, "the Dockerfile builds cloud/cmd/ticketero-cloud")
	raw, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	ignore := loadDockerignore(t)
	dir := t.TempDir()
	for _, in := range parseDockerfile(t, string(raw))[0].Body {
		if in.Cmd != "COPY" {
			continue
		}
		c := parseCopy(in)
		dest := filepath.Join(dir, c.Dest)
		for _, src := range c.Sources {
			matches, err := filepath.Glob(filepath.Join(repoRoot, src))
			require.NoError(t, err)
			for _, m := range matches {
				stageCopy(t, ignore, m, dest)
			}
		}
	}
	for _, p := range []string{"go.work", "agent/go.mod", "shared/go.mod", "migrations/go.mod", "cloud/go.mod"} {
		assert.FileExists(t, filepath.Join(dir, p))
	}
	assert.NoFileExists(t, filepath.Join(dir, "agent/agent.go"))
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./cloud/cmd/ticketero-cloud")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOFLAGS=-mod=readonly", "GOWORK=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go list in the staged build context:\n%s", out)
	deps := string(out)
	gowork, err := exec.Command("go", "env", "-C", dir, "GOWORK").Output()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "go.work"), strings.TrimSpace(string(gowork)), "built in workspace mode")
	assert.Contains(t, deps, "github.com/ticketero/ticketero/cloud/cmd/ticketero-cloud")
	assert.NotContains(t, deps, "github.com/ticketero/ticketero/agent", "the cloud image must not need the agent")
	assert.NotContains(t, deps, "mattn/go-sqlite3", "no cgo in the cloud")
}

// stageCopy copies src (file or directory) to dest the way COPY does,
// skipping what the dockerignore excludes.
func stageCopy(t *testing.T, ignore dockerignore, src, dest string) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	info, err := os.Stat(src)
	require.NoError(t, err)
	base := src
	if !info.IsDir() {
		base = filepath.Dir(src)
	}
	require.NoError(t, filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil {
			return err
		}
		if ignore.excluded(filepath.ToSlash(rel)) {
			return nil
		}
		inner, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(dest, inner)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	}))
}
