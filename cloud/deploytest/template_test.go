package deploytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ticketero/ticketero/shared/event"
)

// deployDir is where the tests find deploy/, relative to this package.
const deployDir = "../../deploy"

const templatePath = deployDir + "/cloudformation/ticketero.yaml"

// template is a CloudFormation template kept as yaml.Node, so short-form
// intrinsic functions (!Ref, !GetAtt, !Sub...) survive as node tags.
type template struct {
	Parameters map[string]*yaml.Node
	Mappings   map[string]*yaml.Node
	Conditions map[string]*yaml.Node
	Resources  map[string]*yaml.Node
	Outputs    map[string]*yaml.Node
}

// pseudoParameters are the AWS:: names !Ref and !Sub may use without declaring.
var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

// getAttNames lists, per resource type the template uses, the attributes
// !GetAtt may read. A type missing here fails the check, so the table grows
// with the template.
var getAttNames = map[string][]string{
	"AWS::KMS::Key":                             {"Arn", "KeyId"},
	"AWS::EC2::EIP":                             {"AllocationId", "PublicIp"},
	"AWS::S3::Bucket":                           {"Arn", "DomainName", "RegionalDomainName"},
	"AWS::SQS::Queue":                           {"Arn", "QueueName", "QueueUrl"},
	"AWS::Logs::LogGroup":                       {"Arn"},
	"AWS::IAM::Role":                            {"Arn", "RoleId"},
	"AWS::ECS::Service":                         {"Name", "ServiceArn"},
	"AWS::ECS::Cluster":                         {"Arn"},
	"AWS::RDS::DBInstance":                      {"Endpoint.Address", "Endpoint.Port", "DBInstanceArn"},
	"AWS::ElasticLoadBalancingV2::LoadBalancer": {"DNSName", "CanonicalHostedZoneID", "LoadBalancerFullName", "LoadBalancerArn"},
	"AWS::ElasticLoadBalancingV2::TargetGroup":  {"TargetGroupFullName", "TargetGroupArn"},
	"AWS::CloudFront::Distribution":             {"DomainName", "Id"},
	"AWS::IoT::RoleAlias":                       {"RoleAliasArn"},
	"AWS::IoT::Policy":                          {"Arn"},
}

func loadTemplate(tb testing.TB, path string) *template {
	tb.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(tb, err)
	return parseTemplate(tb, raw)
}

func parseTemplate(tb testing.TB, raw []byte) *template {
	tb.Helper()
	var doc yaml.Node
	require.NoError(tb, yaml.Unmarshal(raw, &doc))
	require.Equal(tb, yaml.DocumentNode, doc.Kind)
	root := doc.Content[0]
	require.Equal(tb, yaml.MappingNode, root.Kind)
	section := func(name string) map[string]*yaml.Node {
		out := map[string]*yaml.Node{}
		if n := mapValue(root, name); n != nil {
			for i := 0; i+1 < len(n.Content); i += 2 {
				out[n.Content[i].Value] = n.Content[i+1]
			}
		}
		return out
	}
	return &template{
		Parameters: section("Parameters"),
		Mappings:   section("Mappings"),
		Conditions: section("Conditions"),
		Resources:  section("Resources"),
		Outputs:    section("Outputs"),
	}
}

// mapValue returns the value under key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// at walks mapping keys and sequence indexes ("0", "1") from n; nil when absent.
func at(n *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			n = mapValue(n, p)
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

func (t *template) resourceType(name string) string {
	return at(t.Resources[name], "Type").Value
}

// resourcesOfType returns the sorted names of resources of type typ.
func (t *template) resourcesOfType(typ string) []string {
	var names []string
	for name, r := range t.Resources {
		if n := at(r, "Type"); n != nil && n.Value == typ {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// check returns every reference in the template that does not resolve, and
// every parameter or condition declared but never used.
func (t *template) check() []string {
	c := &checker{t: t, usedParams: map[string]bool{}, usedConds: map[string]bool{}}
	for name, r := range t.Resources {
		c.where = "Resources." + name
		if at(r, "Type") == nil {
			c.fail("no Type")
		}
		if d := at(r, "DependsOn"); d != nil {
			deps := []*yaml.Node{d}
			if d.Kind == yaml.SequenceNode {
				deps = d.Content
			}
			for _, dep := range deps {
				if _, ok := t.Resources[dep.Value]; !ok {
					c.fail("DependsOn %q: no such resource", dep.Value)
				}
			}
		}
		if cond := at(r, "Condition"); cond != nil {
			c.condition(cond.Value)
		}
		c.walk(at(r, "Properties"), nil)
	}
	for name, o := range t.Outputs {
		c.where = "Outputs." + name
		if cond := at(o, "Condition"); cond != nil {
			c.condition(cond.Value)
		}
		c.walk(o, nil)
	}
	for name, cond := range t.Conditions {
		c.where = "Conditions." + name
		c.walk(cond, nil)
	}
	c.where = "Parameters"
	for name := range t.Parameters {
		if !c.usedParams[name] {
			c.fail("parameter %s is never used", name)
		}
	}
	c.where = "Conditions"
	for name := range t.Conditions {
		if !c.usedConds[name] {
			c.fail("condition %s is never used", name)
		}
	}
	sort.Strings(c.problems)
	return c.problems
}

type checker struct {
	t          *template
	where      string
	problems   []string
	usedParams map[string]bool
	usedConds  map[string]bool
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, c.where+": "+fmt.Sprintf(format, args...))
}

func (c *checker) condition(name string) {
	if _, ok := c.t.Conditions[name]; !ok {
		c.fail("condition %q: not declared", name)
	}
	c.usedConds[name] = true
}

// ref resolves a !Ref or a ${Name} in !Sub (local holds !Sub's own variables).
func (c *checker) ref(name string, local map[string]bool) {
	switch {
	case local[name]:
	case slices.Contains(pseudoParameters, name):
	case c.t.Parameters[name] != nil:
		c.usedParams[name] = true
	case c.t.Resources[name] != nil:
	default:
		c.fail("reference %q: no parameter, resource or pseudo parameter of that name", name)
	}
}

func (c *checker) getAtt(resource, attr string) {
	if c.t.Resources[resource] == nil {
		c.fail("GetAtt %s.%s: no resource %q", resource, attr, resource)
		return
	}
	typ := c.t.resourceType(resource)
	attrs, known := getAttNames[typ]
	if !known {
		c.fail("GetAtt %s.%s: attributes of %s not listed in getAttNames", resource, attr, typ)
		return
	}
	if !slices.Contains(attrs, attr) {
		c.fail("GetAtt %s.%s: %s has no attribute %q", resource, attr, typ, attr)
	}
}

func (c *checker) sub(s string, local map[string]bool) {
	for _, m := range subVar.FindAllStringSubmatch(s, -1) {
		v := m[1]
		if strings.HasPrefix(v, "!") { // ${!Literal} is written as ${Literal}
			continue
		}
		if res, attr, ok := strings.Cut(v, "."); ok && !local[v] {
			c.getAtt(res, attr)
			continue
		}
		c.ref(v, local)
	}
}

func (c *checker) walk(n *yaml.Node, local map[string]bool) {
	if n == nil {
		return
	}
	switch n.Tag {
	case "!Ref":
		c.ref(n.Value, local)
		return
	case "!GetAtt":
		if n.Kind == yaml.ScalarNode {
			res, attr, _ := strings.Cut(n.Value, ".")
			c.getAtt(res, attr)
		} else if len(n.Content) == 2 {
			c.getAtt(n.Content[0].Value, n.Content[1].Value)
		} else {
			c.fail("GetAtt with %d arguments", len(n.Content))
		}
		return
	case "!Sub":
		if n.Kind == yaml.ScalarNode {
			c.sub(n.Value, local)
			return
		}
		if len(n.Content) != 2 || n.Content[1].Kind != yaml.MappingNode {
			c.fail("Sub: want [string, {vars}]")
			return
		}
		vars := map[string]bool{}
		for i := 0; i+1 < len(n.Content[1].Content); i += 2 {
			vars[n.Content[1].Content[i].Value] = true
			c.walk(n.Content[1].Content[i+1], local)
		}
		c.sub(n.Content[0].Value, vars)
		return
	case "!If":
		if len(n.Content) != 3 {
			c.fail("If: want 3 arguments, got %d", len(n.Content))
			return
		}
		c.condition(n.Content[0].Value)
		c.walk(n.Content[1], local)
		c.walk(n.Content[2], local)
		return
	case "!Condition":
		c.condition(n.Value)
		return
	case "!FindInMap":
		c.findInMap(n, local)
		return
	case "!GetAZs", "!Select", "!Cidr", "!Join", "!Split", "!Equals", "!Not", "!And", "!Or", "!Base64", "!ImportValue":
	default:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			c.fail("unknown tag %s", n.Tag)
			return
		}
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		// Long forms: {Ref: X}, {Fn::GetAtt: [A, B]}, ...
		key, val := n.Content[0].Value, n.Content[1]
		switch key {
		case "Ref":
			c.ref(val.Value, local)
			return
		case "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::FindInMap":
			short := *val
			short.Tag = "!" + strings.TrimPrefix(key, "Fn::")
			c.walk(&short, local)
			return
		}
	}
	for _, child := range n.Content {
		c.walk(child, local)
	}
}

func (c *checker) findInMap(n *yaml.Node, local map[string]bool) {
	if len(n.Content) != 3 {
		c.fail("FindInMap: want 3 arguments, got %d", len(n.Content))
		return
	}
	name, top, second := n.Content[0], n.Content[1], n.Content[2]
	m := c.t.Mappings[name.Value]
	if m == nil {
		c.fail("FindInMap: no mapping %q", name.Value)
		return
	}
	c.walk(top, local)
	c.walk(second, local)
	var entries []*yaml.Node
	if top.Tag == "!Ref" {
		// Every value the parameter allows must be a top-level key.
		for _, v := range at(c.t.Parameters[top.Value], "AllowedValues").Content {
			e := mapValue(m, v.Value)
			if e == nil {
				c.fail("FindInMap %s: parameter %s allows %q, which the mapping lacks", name.Value, top.Value, v.Value)
				continue
			}
			entries = append(entries, e)
		}
	} else if e := mapValue(m, top.Value); e != nil {
		entries = append(entries, e)
	} else {
		c.fail("FindInMap %s: no key %q", name.Value, top.Value)
	}
	for _, e := range entries {
		if mapValue(e, second.Value) == nil {
			c.fail("FindInMap %s: an entry lacks %q", name.Value, second.Value)
		}
	}
}

func TestTemplateReferencesResolve(t *testing.T) {
	tpl := loadTemplate(t, templatePath)
	require.NotEmpty(t, tpl.Resources)
	assert.Empty(t, tpl.check())
}

// TestTemplateCheckerCatches makes sure the reference check above can fail.
func TestTemplateCheckerCatches(t *testing.T) {
	tpl := parseTemplate(t, []byte(`
Parameters:
  Used: {Type: String}
  Unused: {Type: String}
Mappings:
  M:
    a: {k: v}
Conditions:
  C: !Equals [!Ref Used, x]
  Idle: !Equals [!Ref Used, y]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: [Ghost]
    Condition: Missing
    Properties:
      A: !Ref Nowhere
      B: !GetAtt Bucket.Nope
      C: !GetAtt Phantom.Arn
      D: !Sub '${AWS::Region}-${Used}-${Bucket.Arn}-${!Literal}-${Lost}'
      E: !Sub ['${x}-${Gone}', {x: !Ref Used}]
      F: !If [Undeclared, a, b]
      G: !FindInMap [M, b, k]
      H: !FindInMap [M, a, z]
      I: !Bogus x
      J: {Ref: LongLost}
      K: !If [C, !Ref AWS::NoValue, !Ref Used]
`))
	assert.Equal(t, []string{
		`Conditions: condition Idle is never used`,
		`Parameters: parameter Unused is never used`,
		`Resources.Bucket: DependsOn "Ghost": no such resource`,
		`Resources.Bucket: FindInMap M: an entry lacks "z"`,
		`Resources.Bucket: FindInMap M: no key "b"`,
		`Resources.Bucket: GetAtt Bucket.Nope: AWS::S3::Bucket has no attribute "Nope"`,
		`Resources.Bucket: GetAtt Phantom.Arn: no resource "Phantom"`,
		`Resources.Bucket: condition "Missing": not declared`,
		`Resources.Bucket: condition "Undeclared": not declared`,
		`Resources.Bucket: reference "Gone": no parameter, resource or pseudo parameter of that name`,
		`Resources.Bucket: reference "LongLost": no parameter, resource or pseudo parameter of that name`,
		`Resources.Bucket: reference "Lost": no parameter, resource or pseudo parameter of that name`,
		`Resources.Bucket: reference "Nowhere": no parameter, resource or pseudo parameter of that name`,
		`Resources.Bucket: unknown tag !Bogus`,
	}, tpl.check())
}

// scalar asserts the node at path is a plain scalar equal to want.
func scalar(t *testing.T, n *yaml.Node, want string, path ...string) {
	t.Helper()
	got := at(n, path...)
	if assert.NotNil(t, got, "%v missing", path) {
		assert.Equal(t, want, got.Value, "%v", path)
	}
}

// tagged asserts the node at path is the intrinsic tag (!Ref, !GetAtt) of want.
func tagged(t *testing.T, n *yaml.Node, tag, want string, path ...string) {
	t.Helper()
	got := at(n, path...)
	if assert.NotNil(t, got, "%v missing", path) {
		assert.Equal(t, tag+" "+want, got.Tag+" "+got.Value, "%v", path)
	}
}

func TestTemplateArchitecture(t *testing.T) {
	tpl := loadTemplate(t, templatePath)
	res := tpl.Resources

	t.Run("inventory", func(t *testing.T) {
		for typ, min := range map[string]int{
			"AWS::EC2::VPC": 1, "AWS::EC2::Subnet": 4, "AWS::EC2::NatGateway": 1, "AWS::EC2::InternetGateway": 1,
			"AWS::ElasticLoadBalancingV2::LoadBalancer": 1, "AWS::ElasticLoadBalancingV2::Listener": 1,
			"AWS::ECS::Cluster": 1, "AWS::ECS::Service": 1, "AWS::ECS::TaskDefinition": 1,
			"AWS::ApplicationAutoScaling::ScalingPolicy": 2, "AWS::RDS::DBInstance": 1,
			"AWS::IoT::ThingType": 1, "AWS::IoT::Policy": 1, "AWS::IoT::TopicRule": 1, "AWS::SQS::Queue": 2,
			"AWS::S3::Bucket": 1, "AWS::SecretsManager::Secret": 3, "AWS::KMS::Key": 1, "AWS::Logs::LogGroup": 1,
			"AWS::CloudWatch::Alarm": 4, "AWS::CloudFront::Distribution": 1,
		} {
			assert.GreaterOrEqual(t, len(tpl.resourcesOfType(typ)), min, typ)
		}
	})

	t.Run("vpc", func(t *testing.T) {
		azs := map[string]string{}
		for _, s := range tpl.resourcesOfType("AWS::EC2::Subnet") {
			az := at(res[s], "Properties", "AvailabilityZone")
			require.Equal(t, "!Select", az.Tag, s)
			azs[s] = az.Content[0].Value
		}
		assert.Equal(t, map[string]string{"PublicSubnetA": "0", "PublicSubnetB": "1", "PrivateSubnetA": "0", "PrivateSubnetB": "1"}, azs)
		for _, s := range []string{"PrivateSubnetA", "PrivateSubnetB"} {
			assert.Nil(t, at(res[s], "Properties", "MapPublicIpOnLaunch"), s)
		}
		tagged(t, res["PrivateDefaultRouteA"], "!Ref", "NatGatewayA", "Properties", "NatGatewayId")
	})

	t.Run("alb", func(t *testing.T) {
		tg := res["TargetGroup"]
		scalar(t, tg, "/readyz", "Properties", "HealthCheckPath")
		scalar(t, tg, "ip", "Properties", "TargetType")
		scalar(t, tg, "8080", "Properties", "Port")
		l := res["HttpsListener"]
		scalar(t, l, "HTTPS", "Properties", "Protocol")
		scalar(t, l, "443", "Properties", "Port")
		tagged(t, l, "!Ref", "AlbCertificateArn", "Properties", "Certificates", "0", "CertificateArn")
		assert.Contains(t, at(l, "Properties", "SslPolicy").Value, "TLS13")
		// Without CloudFront's secret header the ALB answers 403.
		scalar(t, l, "403", "Properties", "DefaultActions", "0", "FixedResponseConfig", "StatusCode")
		tagged(t, res["OriginVerifyListenerRule"], "!Ref", "TargetGroup", "Properties", "Actions", "0", "TargetGroupArn")
		assert.Empty(t, tpl.resourcesOfType("AWS::ElasticLoadBalancingV2::Listener")[1:], "only the HTTPS listener")
	})

	t.Run("ecs", func(t *testing.T) {
		svc := res["Service"]
		scalar(t, svc, "FARGATE", "Properties", "LaunchType")
		scalar(t, svc, "DISABLED", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp")
		tagged(t, svc, "!Ref", "PrivateSubnetA", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "Subnets", "0")
		tagged(t, svc, "!Ref", "PrivateSubnetB", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "Subnets", "1")
		tagged(t, svc, "!Ref", "TargetGroup", "Properties", "LoadBalancers", "0", "TargetGroupArn")
		scalar(t, svc, "100", "Properties", "DeploymentConfiguration", "MinimumHealthyPercent")

		containers := map[string]*yaml.Node{}
		for _, c := range at(res["TaskDefinition"], "Properties", "ContainerDefinitions").Content {
			containers[at(c, "Name").Value] = c
		}
		c := containers["cloud"]
		require.NotNil(t, c, "container cloud")
		tagged(t, c, "!Ref", "ContainerImage", "Image")
		scalar(t, c, "8080", "PortMappings", "0", "ContainerPort")
		scalar(t, c, "true", "ReadonlyRootFilesystem")
		tagged(t, c, "!Ref", "CloudLogGroup", "LogConfiguration", "Options", "awslogs-group")
		secrets := map[string]string{}
		for _, s := range at(c, "Secrets").Content {
			secrets[at(s, "Name").Value] = at(s, "ValueFrom").Value
		}
		assert.Equal(t, "DatabaseUrlSecret", secrets["TICKETERO_DB"])
		assert.Equal(t, "TelegramTokenSecret", secrets["TICKETERO_TELEGRAM_TOKEN"])
		assert.Equal(t, "DataKeySecret", secrets["TICKETERO_DATA_KEY"])
		env := map[string]string{}
		for _, e := range at(c, "Environment").Content {
			name, value := at(e, "Name").Value, at(e, "Value")
			env[name] = value.Value
			if regexp.MustCompile(`(?i)TOKEN|PASSWORD|SECRET|KEY|CERT|DB$`).MatchString(name) {
				assert.True(t, value.Tag == "!!str" && strings.HasPrefix(value.Value, "/"),
					"%s: secrets come from Secrets Manager; the environment may only name a file", name)
			}
		}
		// The MQTT certificate the cloud reads is what tls-init writes from the secret.
		init := containers["tls-init"]
		require.NotNil(t, init, "container tls-init")
		script := at(init, "Command", "2").Value
		assert.Contains(t, script, "> "+env["TICKETERO_MQTT_CERT"])
		assert.Contains(t, script, "> "+env["TICKETERO_MQTT_KEY"])
		assert.Contains(t, script, "chown 65532:65532")
		scalar(t, c, "tls-init", "DependsOn", "0", "ContainerName")
		scalar(t, c, "SUCCESS", "DependsOn", "0", "Condition")
		scalar(t, c, "true", "MountPoints", "0", "ReadOnly")
		assert.Equal(t, "/run/tls", at(c, "MountPoints", "0", "ContainerPath").Value)
		assert.True(t, strings.HasPrefix(env["TICKETERO_MQTT_CERT"], "/run/tls/"))
		assert.Equal(t, ":8080", env["TICKETERO_HTTP"])

		// Files the task names must be where the image puts them.
		dockerfile, err := os.ReadFile(dockerfilePath)
		require.NoError(t, err)
		dsn := at(res["DatabaseUrlSecret"], "Properties", "SecretString").Value
		m := regexp.MustCompile(`sslrootcert=(\S+)$`).FindStringSubmatch(dsn)
		require.NotNil(t, m, dsn)
		assert.Contains(t, dsn, "sslmode=verify-full")
		assert.Regexp(t, `(?m)^COPY --from=build \S+ `+regexp.QuoteMeta(m[1])+`$`, string(dockerfile))
		assert.Equal(t, "/etc/ssl/certs/ca-certificates.crt", env["TICKETERO_MQTT_CA"], "the distroless bundle, which has Amazon Root CA 1")
	})

	t.Run("autoscaling", func(t *testing.T) {
		want := map[string]string{"ECSServiceAverageCPUUtilization": "70", "ECSServiceAverageMemoryUtilization": "80"}
		got := map[string]string{}
		for _, p := range tpl.resourcesOfType("AWS::ApplicationAutoScaling::ScalingPolicy") {
			cfg := at(res[p], "Properties", "TargetTrackingScalingPolicyConfiguration")
			got[at(cfg, "PredefinedMetricSpecification", "PredefinedMetricType").Value] = at(cfg, "TargetValue").Value
			tagged(t, res[p], "!Ref", "ScalableTarget", "Properties", "ScalingTargetId")
		}
		assert.Equal(t, want, got)
		st := res["ScalableTarget"]
		scalar(t, st, "ecs:service:DesiredCount", "Properties", "ScalableDimension")
		assert.Equal(t, "service/${Cluster}/${Service.Name}", at(st, "Properties", "ResourceId").Value)
	})

	t.Run("rds", func(t *testing.T) {
		db := res["Database"]
		scalar(t, db, "postgres", "Properties", "Engine")
		tagged(t, db, "!Ref", "DatabaseEngineVersion", "Properties", "EngineVersion")
		assert.Regexp(t, `^15\.\d+$`, at(tpl.Parameters["DatabaseEngineVersion"], "Default").Value)
		scalar(t, db, "true", "Properties", "MultiAZ")
		scalar(t, db, "true", "Properties", "StorageEncrypted")
		tagged(t, db, "!Ref", "KmsKey", "Properties", "KmsKeyId")
		scalar(t, db, "7", "Properties", "BackupRetentionPeriod")
		scalar(t, db, "false", "Properties", "PubliclyAccessible")
		scalar(t, db, "Snapshot", "DeletionPolicy")
		scalar(t, res["DatabaseParameterGroup"], "postgres15", "Properties", "Family")
		scalar(t, res["DatabaseParameterGroup"], "1", "Properties", "Parameters", "rds.force_ssl")
		// The password is never in the template: a dynamic reference to the generated secret.
		assert.Contains(t, at(db, "Properties", "MasterUserPassword").Value, "{{resolve:secretsmanager:${DatabaseSecret}")
	})

	t.Run("iot", func(t *testing.T) {
		assert.NotNil(t, res["BranchThingType"])
		rule := at(res["IngestTopicRule"], "Properties", "TopicRulePayload")
		scalar(t, rule, "SELECT *, topic() AS topic FROM 'ticketero/v1/branches/+/events'", "Sql")
		assert.Contains(t, at(rule, "Sql").Value, "'"+event.EventsFilter+"'", "the rule follows the protocol's events filter")
		tagged(t, rule, "!Ref", "IngestQueue", "Actions", "0", "Sqs", "QueueUrl")
		assert.NotNil(t, at(rule, "ErrorAction"))
		q := res["IngestQueue"]
		tagged(t, q, "!GetAtt", "IngestDeadLetterQueue.Arn", "Properties", "RedrivePolicy", "deadLetterTargetArn")
		scalar(t, q, "5", "Properties", "RedrivePolicy", "maxReceiveCount")
		assert.Nil(t, at(q, "Properties", "FifoQueue"), "standard queue")
		// The cloud's certificate gets its policy before the service must pass /readyz (broker included).
		tagged(t, res["CloudPolicyAttachment"], "!Ref", "CloudPolicy", "Properties", "PolicyName")
		var deps []string
		for _, d := range at(res["Service"], "DependsOn").Content {
			deps = append(deps, d.Value)
		}
		assert.Contains(t, deps, "CloudPolicyAttachment")
	})

	t.Run("s3", func(t *testing.T) {
		b := at(res["BackupBucket"], "Properties")
		scalar(t, b, "aws:kms", "BucketEncryption", "ServerSideEncryptionConfiguration", "0", "ServerSideEncryptionByDefault", "SSEAlgorithm")
		scalar(t, b, "Enabled", "VersioningConfiguration", "Status")
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			scalar(t, b, "true", "PublicAccessBlockConfiguration", k)
		}
		assert.NotEmpty(t, at(b, "LifecycleConfiguration", "Rules").Content)
	})

	t.Run("secrets", func(t *testing.T) {
		for _, s := range tpl.resourcesOfType("AWS::SecretsManager::Secret") {
			tagged(t, res[s], "!Ref", "KmsKey", "Properties", "KmsKeyId")
			p := at(res[s], "Properties")
			if s != "DatabaseUrlSecret" { // composed from the generated password, see its comment
				assert.Nil(t, at(p, "SecretString"), "%s: generated, never a literal", s)
				assert.NotNil(t, at(p, "GenerateSecretString"), s)
			}
		}
		scalar(t, res["KmsKey"], "true", "Properties", "EnableKeyRotation")
	})

	t.Run("logs and alarms", func(t *testing.T) {
		for _, g := range tpl.resourcesOfType("AWS::Logs::LogGroup") {
			assert.NotNil(t, at(res[g], "Properties", "RetentionInDays"), g)
		}
		metrics := map[string]bool{}
		for _, a := range tpl.resourcesOfType("AWS::CloudWatch::Alarm") {
			p := at(res[a], "Properties")
			metrics[at(p, "Namespace").Value+"/"+at(p, "MetricName").Value] = true
			tagged(t, p, "!Ref", "AlarmTopic", "AlarmActions", "0")
		}
		for _, m := range []string{"AWS/ApplicationELB/HTTPCode_Target_5XX_Count", "AWS/ECS/CPUUtilization",
			"AWS/SQS/ApproximateNumberOfMessagesVisible", "AWS/RDS/FreeStorageSpace"} {
			assert.True(t, metrics[m], m)
		}
		tagged(t, res["IngestDlqDepthAlarm"], "!GetAtt", "IngestDeadLetterQueue.QueueName", "Properties", "Dimensions", "0", "Value")
	})

	t.Run("cloudfront", func(t *testing.T) {
		d := at(res["Distribution"], "Properties", "DistributionConfig")
		tagged(t, d, "!Ref", "OriginDomainName", "Origins", "0", "DomainName")
		scalar(t, d, "https-only", "Origins", "0", "CustomOriginConfig", "OriginProtocolPolicy")
		scalar(t, d, "X-Origin-Verify", "Origins", "0", "OriginCustomHeaders", "0", "HeaderName")
		scalar(t, d, "redirect-to-https", "DefaultCacheBehavior", "ViewerProtocolPolicy")
		tagged(t, d, "!Ref", "CloudFrontCertificateArn", "ViewerCertificate", "AcmCertificateArn")
	})
}

// TestTemplateCfnLint runs cfn-lint (pip install cfn-lint) when it is on PATH:
// it knows every resource schema, which the checks above do not.
func TestTemplateCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not on PATH: schema lint skipped (the reference checks above still ran)")
	}
	path, err := filepath.Abs(templatePath)
	require.NoError(t, err)
	out, err := exec.Command(bin, path).CombinedOutput()
	assert.NoError(t, err, "cfn-lint:\n%s", out)
}
