package main

import (
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ticketero/ticketero/cloud/enroll"
	"github.com/ticketero/ticketero/cloud/telegram"
)

// The production deployment as shipped: the ECS task in the CloudFormation
// template and the image it runs.
const (
	cfnTemplatePath = "../../../deploy/cloudformation/ticketero.yaml"
	dockerfilePath  = "../../../deploy/Dockerfile"
)

// sdkEnv are variables the task may set for the AWS SDK, not for our code.
var sdkEnv = map[string]bool{"AWS_REGION": true}

// yamlAt walks mapping keys and sequence indexes from n; nil when absent.
func yamlAt(n *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
				}
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return n
}

// cfnResolver turns a task's environment value into the string the task
// would see: parameters give their default, resources and parameters
// without one a recognisable stand-in, mappings their entry for the
// parameters' defaults.
type cfnResolver struct{ root *yaml.Node }

func (r cfnResolver) ref(name string) string {
	if d := yamlAt(r.root, "Parameters", name, "Default"); d != nil {
		return d.Value
	}
	if strings.HasPrefix(name, "AWS::") {
		return "aws-" + strings.ToLower(strings.TrimPrefix(name, "AWS::"))
	}
	return "ref-" + strings.ToLower(strings.ReplaceAll(name, ".", "-"))
}

func (r cfnResolver) value(t *testing.T, n *yaml.Node) string {
	t.Helper()
	switch n.Tag {
	case "!Ref":
		return r.ref(n.Value)
	case "!Sub":
		return regexp.MustCompile(`\$\{([^}!]+)\}`).ReplaceAllStringFunc(n.Value, func(m string) string {
			return r.ref(m[2 : len(m)-1])
		})
	case "!FindInMap":
		require.Len(t, n.Content, 3, "FindInMap")
		v := yamlAt(r.root, "Mappings", r.value(t, n.Content[0]), r.value(t, n.Content[1]), r.value(t, n.Content[2]))
		require.NotNil(t, v, "FindInMap %v", n.Content)
		return v.Value
	case "", "!!str", "!!int", "!!bool", "!!float":
		require.Equal(t, yaml.ScalarNode, n.Kind, "line %d", n.Line)
		return n.Value
	}
	t.Fatalf("line %d: tag %s not understood by this test", n.Line, n.Tag)
	return ""
}

// taskEnv returns the cloud container's environment (plain values resolved)
// and the names it takes from Secrets Manager.
func taskEnv(t *testing.T) (env map[string]string, secrets []string) {
	t.Helper()
	raw, err := os.ReadFile(cfnTemplatePath)
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	r := cfnResolver{root: doc.Content[0]}
	var cloud *yaml.Node
	defs := yamlAt(r.root, "Resources", "TaskDefinition", "Properties", "ContainerDefinitions")
	require.NotNil(t, defs)
	for _, c := range defs.Content {
		if yamlAt(c, "Name").Value == "cloud" {
			cloud = c
		}
	}
	require.NotNil(t, cloud, "the task's cloud container")
	env = map[string]string{}
	for _, e := range yamlAt(cloud, "Environment").Content {
		name := yamlAt(e, "Name").Value
		_, dup := env[name]
		require.False(t, dup, "%s set twice", name)
		env[name] = r.value(t, yamlAt(e, "Value"))
	}
	for _, s := range yamlAt(cloud, "Secrets").Content {
		secrets = append(secrets, yamlAt(s, "Name").Value)
	}
	return env, secrets
}

// literalEnvReads returns the TICKETERO_* names passed literally to a call
// (os.Getenv("X"), getenv("X"), env.Secret(&v, "X")...) anywhere in the
// cloud module's non-test code.
func literalEnvReads(t *testing.T) map[string]bool {
	t.Helper()
	name := regexp.MustCompile(`^TICKETERO_[A-Z0-9_]+$`)
	reads := map[string]bool{}
	fset := token.NewFileSet()
	require.NoError(t, filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				for _, a := range call.Args {
					if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil && name.MatchString(s) {
							reads[s] = true
						}
					}
				}
			}
			return true
		})
		return nil
	}))
	return reads
}

// parseAll reads `ticketero-cloud serve`'s configuration (ParseServe reads
// every part) over getenv and returns what it made of it.
type parsed struct {
	serve    Config
	web      WebConfig
	enroll   enroll.Config
	telegram telegram.Config
	errs     map[string]error
}

func parseAll(getenv func(string) string) parsed {
	var p parsed
	p.errs = map[string]error{}
	p.serve, p.errs["serve"] = ParseServe(nil, getenv)
	p.web, p.enroll, p.telegram = p.serve.Web, p.serve.Enroll, p.serve.Telegram
	return p
}

// TestDeployedTaskEnvironment: every variable the CloudFormation task sets
// is one the cloud reads, and with what it sets (and dummy secrets) every
// part of the cloud configures itself as production needs: enrolment
// through AWS IoT (without it /api/v1/enroll answers 404), SQS ingest,
// MQTT over TLS, Telegram by webhook.
func TestDeployedTaskEnvironment(t *testing.T) {
	env, secrets := taskEnv(t)
	secretSample := map[string]string{
		"TICKETERO_DB":             "postgres://ticketero@db.internal:5432/ticketero?sslmode=verify-full",
		"TICKETERO_DATA_KEY":       hex.EncodeToString(make([]byte, 32)),
		"TICKETERO_ADMIN_PASSWORD": "a generated password of 32 characters",
		// As the stack's GenerateSecretString makes it: 48 letters and digits.
		"TICKETERO_RUT_KEY": strings.Repeat("Ab3x", 12),
		// As the stack generates it: 48 letters and digits.
		"TICKETERO_TELEGRAM_WEBHOOK_SECRET": strings.Repeat("Tg7z", 12),
	}
	all := map[string]string{}
	for k, v := range env {
		all[k] = v
	}
	for _, s := range secrets {
		_, dup := all[s]
		require.False(t, dup, "%s both in Environment and Secrets", s)
		all[s] = "secret-value"
		if v, ok := secretSample[s]; ok {
			all[s] = v
		}
	}

	// What the code reads: the readers' own calls, recorded, with the task's
	// environment and with none (a reader may look further when a
	// variable is empty, e.g. NAME_FILE), plus every literal read.
	read := literalEnvReads(t)
	record := func(src map[string]string) func(string) string {
		return func(k string) string { read[k] = true; return src[k] }
	}
	p := parseAll(record(all))
	parseAll(record(map[string]string{}))

	t.Run("every variable set is read", func(t *testing.T) {
		var unread []string
		for name := range all {
			if !read[name] && !sdkEnv[name] {
				unread = append(unread, name)
			}
		}
		sort.Strings(unread)
		assert.Empty(t, unread, "the task sets variables nothing reads")
	})

	t.Run("what production needs is set", func(t *testing.T) {
		for part, err := range p.errs {
			assert.NoError(t, err, "%s configuration from the task's environment", part)
		}
		assert.Equal(t, "aws-iot", p.enroll.Provisioner, "enrolment on (else /api/v1/enroll is 404)")
		assert.NotEmpty(t, p.enroll.IoTThingType)
		assert.NotEmpty(t, p.enroll.IoTEndpoint, "the endpoint is a stack parameter: no DescribeEndpoint at start")
		assert.NotEmpty(t, p.serve.SQSQueueURL, "events come from the IoT rule's queue")
		assert.True(t, strings.HasPrefix(p.serve.MQTT, "mqtts://"), p.serve.MQTT)
		assert.True(t, p.telegram.Enabled())
		assert.Equal(t, telegram.ModeWebhook, p.telegram.Mode, "several replicas: webhook, not polling")
		assert.NotEmpty(t, p.telegram.WebhookSecret)
		assert.NotEmpty(t, p.telegram.DataKey)
		assert.NotEmpty(t, p.web.RUTKey)
		// The root file system is read-only: the first admin's password
		// must come in, it cannot be generated into a file.
		assert.NotEmpty(t, p.web.AdminPassword, "TICKETERO_ADMIN_PASSWORD from Secrets Manager")
		assert.Equal(t, 2, p.web.ProxyHops, "behind CloudFront then the ALB: the client is two X-Forwarded-For hops from the right")
	})

	t.Run("files it names are in the image", func(t *testing.T) {
		dockerfile, err := os.ReadFile(dockerfilePath)
		require.NoError(t, err)
		for _, name := range []string{"TICKETERO_IOT_CA_FILE"} {
			path := all[name]
			require.NotEmpty(t, path, name)
			assert.Regexp(t, `(?m)^COPY --from=build \S+ `+regexp.QuoteMeta(path)+`$`, string(dockerfile), "%s=%s", name, path)
		}
	})
}

// TestDeployedEnvCheckCatches: the check above can fail, on the two
// variables the task used to set for nothing.
func TestDeployedEnvCheckCatches(t *testing.T) {
	read := literalEnvReads(t)
	record := func(k string) string { read[k] = true; return "" }
	parseAll(record)
	for _, name := range []string{"TICKETERO_PUBLIC_URL", "TICKETERO_S3_BUCKET"} {
		assert.False(t, read[name], name)
	}
	for _, name := range []string{"TICKETERO_DB", "TICKETERO_MQTT_CA", "TICKETERO_TRUST_PROXY", "TICKETERO_IOT_POLICY", "TICKETERO_LOG_FORMAT"} {
		assert.True(t, read[name], name)
	}
}
