package deploytest

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ticketero/ticketero/shared/event"
)

const branchPolicyPath = deployDir + "/iot/branch-policy.json"

// Where the evaluated requests come from: any region and account will do,
// the policies say * or ${AWS::Region} there.
const (
	testRegion  = "sa-east-1"
	testAccount = "123456789012"
)

// iotPolicy is an AWS IoT Core policy document.
type iotPolicy struct {
	Version   string
	Statement []iotStatement
}

type iotStatement struct {
	Sid       string
	Effect    string
	Action    stringList
	Resource  stringList
	Condition map[string]map[string]stringList
}

// stringList is a policy field that is one string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// iotRequest is one authorization question asked of IoT Core: a connection
// of thing Thing (certificate attached to it or not) doing Action on Resource.
type iotRequest struct {
	Thing    string
	Attached bool
	Action   string
	Resource string
}

// allowed evaluates the policy the way IoT Core does for the parts we use:
// explicit Deny wins, otherwise an Allow whose action, resource and
// conditions match, otherwise denied. Policy variables are substituted as
// literals (a thing name cannot widen a resource pattern); a variable that
// cannot be resolved makes its pattern match nothing. An operator or
// condition key it does not know is an error, so it is never silently
// permissive.
func (p iotPolicy) allowed(r iotRequest) (bool, error) {
	vars := map[string]string{}
	if r.Thing != "" && r.Attached {
		vars["iot:Connection.Thing.ThingName"] = r.Thing
	}
	allow := false
	for _, s := range p.Statement {
		if !matchAny(s.Action, strings.ToLower(r.Action), nil, true) || !matchAny(s.Resource, r.Resource, vars, false) {
			continue
		}
		ok, err := conditionsHold(s.Condition, r)
		if err != nil {
			return false, fmt.Errorf("statement %q: %w", s.Sid, err)
		}
		if !ok {
			continue
		}
		switch s.Effect {
		case "Deny":
			return false, nil
		case "Allow":
			allow = true
		default:
			return false, fmt.Errorf("statement %q: effect %q", s.Sid, s.Effect)
		}
	}
	return allow, nil
}

func conditionsHold(cond map[string]map[string]stringList, r iotRequest) (bool, error) {
	for op, keys := range cond {
		if op != "Bool" {
			return false, fmt.Errorf("condition operator %q not supported by this evaluator", op)
		}
		for key, want := range keys {
			if key != "iot:Connection.Thing.IsAttached" {
				return false, fmt.Errorf("condition key %q not supported by this evaluator", key)
			}
			if len(want) != 1 || want[0] != fmt.Sprint(r.Attached) {
				return false, nil
			}
		}
	}
	return true, nil
}

var policyVar = regexp.MustCompile(`\$\{([^}]+)\}`)

func matchAny(patterns []string, value string, vars map[string]string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if re, ok := patternRegexp(p, vars); ok && re.MatchString(value) {
			return true
		}
	}
	return false
}

// patternRegexp turns a policy pattern into a regexp: * is any run of
// characters (slashes included), ? one character, ${var} its literal value.
func patternRegexp(p string, vars map[string]string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString("^")
	for len(p) > 0 {
		if loc := policyVar.FindStringSubmatchIndex(p); loc != nil && loc[0] == 0 {
			v, ok := vars[p[loc[2]:loc[3]]]
			if !ok {
				return nil, false
			}
			b.WriteString(regexp.QuoteMeta(v))
			p = p[loc[1]:]
			continue
		}
		switch p[0] {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(p[:1]))
		}
		p = p[1:]
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), true
}

func loadBranchPolicy(tb testing.TB) iotPolicy {
	tb.Helper()
	raw, err := os.ReadFile(branchPolicyPath)
	require.NoError(tb, err)
	var p iotPolicy
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	require.NoError(tb, dec.Decode(&p))
	require.Equal(tb, "2012-10-17", p.Version)
	return p
}

func arn(kind, name string) string {
	return "arn:aws:iot:" + testRegion + ":" + testAccount + ":" + kind + "/" + name
}

func mustAllowed(t *testing.T, p iotPolicy, r iotRequest) bool {
	t.Helper()
	ok, err := p.allowed(r)
	require.NoError(t, err)
	return ok
}

// branchTopics lists every branch topic of the wire protocol by kind.
func branchTopics(branch string) map[string]string {
	return map[string]string{
		event.KindEvents:   event.EventsTopic(branch),
		event.KindStatus:   event.StatusTopic(branch),
		event.KindAck:      event.AckTopic(branch),
		event.KindConfig:   event.ConfigTopic(branch),
		event.KindCommands: event.CommandsTopic(branch),
	}
}

func TestBranchPolicyOwnTopicsExactly(t *testing.T) {
	p := loadBranchPolicy(t)
	// What a branch may do on its own topics; nothing else anywhere.
	want := map[string][]string{
		"iot:Publish":       {event.KindEvents, event.KindStatus},
		"iot:RetainPublish": {event.KindStatus},
		"iot:Subscribe":     {event.KindAck, event.KindConfig, event.KindCommands},
		"iot:Receive":       {event.KindAck, event.KindConfig, event.KindCommands},
	}
	for _, self := range []string{"SCL-001", "VAL-001", "A"} {
		for action, kinds := range want {
			for _, other := range []string{self, "SCL-002", "SCL-00", "SCL-0011", "VAL-001x"} {
				for kind, topic := range branchTopics(other) {
					resource := arn("topic", topic)
					if action == "iot:Subscribe" {
						resource = arn("topicfilter", topic)
					}
					expect := other == self && slices.Contains(kinds, kind)
					got := mustAllowed(t, p, iotRequest{Thing: self, Attached: true, Action: action, Resource: resource})
					assert.Equal(t, expect, got, "thing %s %s %s", self, action, topic)
				}
			}
		}
	}
}

func TestBranchPolicyCoversEveryKind(t *testing.T) {
	// A topic kind added to the protocol must be added here and to the policy.
	for kind, topic := range branchTopics("SCL-001") {
		b, k, ok := event.ParseTopic(topic)
		require.True(t, ok, topic)
		assert.Equal(t, "SCL-001", b)
		assert.Equal(t, kind, k)
	}
	_, _, ok := event.ParseTopic("ticketero/v1/branches/SCL-001/unknown")
	assert.False(t, ok)
}

func TestBranchPolicyRefusesWildcardsAndOthers(t *testing.T) {
	p := loadBranchPolicy(t)
	for _, filter := range []string{
		"#", "ticketero/#", "ticketero/v1/branches/#", "ticketero/v1/branches/+/events",
		"ticketero/v1/branches/+/ack", "ticketero/v1/branches/SCL-001/#", "ticketero/v1/branches/SCL-001/+",
		"$share/cloud/" + event.EventsFilter, event.StatusFilter, "$aws/things/SCL-001/shadow/get",
	} {
		assert.False(t, mustAllowed(t, p, iotRequest{Thing: "SCL-001", Attached: true, Action: "iot:Subscribe", Resource: arn("topicfilter", filter)}), filter)
	}
	for _, action := range []string{"iot:UpdateThingShadow", "iot:DeleteThingShadow", "iot:GetRetainedMessage", "iot:ListRetainedMessages", "iot:CreateThing"} {
		assert.False(t, mustAllowed(t, p, iotRequest{Thing: "SCL-001", Attached: true, Action: action, Resource: arn("thing", "SCL-001")}), action)
	}
}

func TestBranchPolicyConnect(t *testing.T) {
	p := loadBranchPolicy(t)
	for _, tc := range []struct {
		name, thing, client string
		attached, want      bool
	}{
		{"own thing name", "SCL-001", "SCL-001", true, true},
		{"another branch's client ID", "SCL-001", "SCL-002", true, false},
		{"suffixed client ID", "SCL-001", "SCL-001-2", true, false},
		{"prefix of the name", "SCL-001", "SCL-00", true, false},
		{"certificate not attached to the thing", "SCL-001", "SCL-001", false, false},
		{"no thing", "", "SCL-001", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustAllowed(t, p, iotRequest{Thing: tc.thing, Attached: tc.attached, Action: "iot:Connect", Resource: arn("client", tc.client)})
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBranchPolicyBackupCredentials(t *testing.T) {
	p := loadBranchPolicy(t)
	tpl := loadTemplate(t, templatePath)
	alias := at(tpl.Resources["BranchBackupRoleAlias"], "Properties", "RoleAlias")
	require.Equal(t, "!Sub", alias.Tag)
	name := strings.ReplaceAll(alias.Value, "${AWS::StackName}", "ticketero-pilot")
	assert.True(t, mustAllowed(t, p, iotRequest{Thing: "SCL-001", Attached: true, Action: "iot:AssumeRoleWithCertificate", Resource: arn("rolealias", name)}))
	assert.False(t, mustAllowed(t, p, iotRequest{Thing: "SCL-001", Attached: true, Action: "iot:AssumeRoleWithCertificate", Resource: arn("rolealias", "admin")}))
	// The role behind the alias reaches only the branch's own prefix.
	res := at(tpl.Resources["BranchBackupRole"], "Properties", "Policies", "0", "PolicyDocument", "Statement", "0", "Resource")
	assert.Equal(t, "${BackupBucket.Arn}/branches/${!credentials-iot:ThingName}/*", res.Value)
}

// plain converts a YAML node without intrinsic functions to what
// encoding/json gives for the same document; a tagged node is an error.
func plain(n *yaml.Node) (any, error) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: %s where the JSON policy has a literal", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := plain(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := plain(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[n.Content[i].Value] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: node kind %d", n.Line, n.Kind)
}

func TestBranchPolicyEmbeddedInTemplate(t *testing.T) {
	raw, err := os.ReadFile(branchPolicyPath)
	require.NoError(t, err)
	var file any
	require.NoError(t, json.Unmarshal(raw, &file))

	tpl := loadTemplate(t, templatePath)
	require.Equal(t, "AWS::IoT::Policy", tpl.resourceType("BranchPolicy"))
	embedded, err := plain(at(tpl.Resources["BranchPolicy"], "Properties", "PolicyDocument"))
	require.NoError(t, err)
	assert.Equal(t, file, embedded, "deploy/iot/branch-policy.json and BranchPolicy in the template differ")
}

// renderSub expands a !Sub string with the test's pseudo parameters.
func renderSub(s string) string {
	return strings.NewReplacer("${AWS::Partition}", "aws", "${AWS::Region}", testRegion, "${AWS::AccountId}", testAccount).Replace(s)
}

func loadCloudPolicy(t *testing.T) iotPolicy {
	t.Helper()
	tpl := loadTemplate(t, templatePath)
	var p iotPolicy
	doc := at(tpl.Resources["CloudPolicy"], "Properties", "PolicyDocument")
	require.NotNil(t, doc)
	for _, s := range at(doc, "Statement").Content {
		st := iotStatement{Effect: at(s, "Effect").Value, Action: stringList{at(s, "Action").Value}}
		r := at(s, "Resource")
		items := []*yaml.Node{r}
		if r.Kind == yaml.SequenceNode {
			items = r.Content
		}
		for _, it := range items {
			require.Equal(t, "!Sub", it.Tag)
			st.Resource = append(st.Resource, renderSub(it.Value))
		}
		p.Statement = append(p.Statement, st)
	}
	return p
}

func TestCloudPolicy(t *testing.T) {
	p := loadCloudPolicy(t)
	ask := func(action, resource string) bool {
		return mustAllowed(t, p, iotRequest{Action: action, Resource: resource})
	}
	assert.True(t, ask("iot:Connect", arn("client", "ticketero-cloud-7f3a")))
	assert.False(t, ask("iot:Connect", arn("client", "SCL-001")), "the cloud must not take over a branch's session")
	assert.True(t, ask("iot:Subscribe", arn("topicfilter", event.SharedEventsFilter)))
	assert.True(t, ask("iot:Subscribe", arn("topicfilter", event.StatusFilter)))
	for _, b := range []string{"SCL-001", "CON-001"} {
		assert.True(t, ask("iot:Receive", arn("topic", event.EventsTopic(b))))
		assert.True(t, ask("iot:Publish", arn("topic", event.AckTopic(b))))
		assert.True(t, ask("iot:Publish", arn("topic", event.ConfigTopic(b))))
		assert.True(t, ask("iot:RetainPublish", arn("topic", event.ConfigTopic(b))))
		assert.True(t, ask("iot:Publish", arn("topic", event.CommandsTopic(b))))
		assert.False(t, ask("iot:Publish", arn("topic", event.EventsTopic(b))), "the cloud must not forge branch events")
		assert.False(t, ask("iot:Publish", arn("topic", event.StatusTopic(b))))
	}
	assert.False(t, ask("iot:Subscribe", arn("topicfilter", "#")))
}

// TestPolicyEvaluator checks the evaluator itself on cases with known answers.
func TestPolicyEvaluator(t *testing.T) {
	p := iotPolicy{Statement: []iotStatement{
		{Effect: "Allow", Action: stringList{"iot:*"}, Resource: stringList{"arn:aws:iot:*:*:topic/a/${iot:Connection.Thing.ThingName}/?"}},
		{Effect: "Deny", Action: stringList{"iot:Publish"}, Resource: stringList{"arn:aws:iot:*:*:topic/a/*/x"}},
	}}
	ask := func(thing, action, topic string) bool {
		return mustAllowed(t, p, iotRequest{Thing: thing, Attached: true, Action: action, Resource: arn("topic", topic)})
	}
	assert.True(t, ask("t1", "iot:Publish", "a/t1/y"))
	assert.True(t, ask("t1", "IOT:RECEIVE", "a/t1/y"), "actions are case-insensitive")
	assert.False(t, ask("t1", "iot:Publish", "a/t1/x"), "deny wins")
	assert.True(t, ask("t1", "iot:Receive", "a/t1/x"))
	assert.False(t, ask("t1", "iot:Publish", "a/t1/yy"), "? is one character")
	assert.False(t, ask("t.", "iot:Publish", "a/tX/y"), "a variable's value is literal")
	assert.False(t, mustAllowed(t, p, iotRequest{Thing: "t1", Action: "iot:Publish", Resource: arn("topic", "a/t1/y")}), "unresolved variable")
	_, err := iotPolicy{Statement: []iotStatement{{Effect: "Allow", Action: stringList{"iot:*"}, Resource: stringList{"*"},
		Condition: map[string]map[string]stringList{"StringLike": {"iot:ClientId": {"x"}}}}}}.allowed(iotRequest{Action: "iot:Connect", Resource: "x"})
	assert.Error(t, err, "unknown condition operators are refused, not ignored")
}
