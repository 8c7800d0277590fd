package deploytest

import (
	"reflect"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ticketero/ticketero/cloud/enroll"
)

// roleActions returns the actions the role's inline policies allow.
func roleActions(t *testing.T, role *yaml.Node) map[string]bool {
	t.Helper()
	allowed := map[string]bool{}
	pols := at(role, "Properties", "Policies")
	require.NotNil(t, pols)
	for _, p := range pols.Content {
		for _, st := range at(p, "PolicyDocument", "Statement").Content {
			if at(st, "Effect").Value != "Allow" {
				continue
			}
			a := at(st, "Action")
			if a.Kind == yaml.ScalarNode {
				allowed[a.Value] = true
				continue
			}
			for _, x := range a.Content {
				allowed[x.Value] = true
			}
		}
	}
	return allowed
}

// TestTaskRoleAllowsEnrolment: the cloud's task role may make every AWS IoT
// call the enrolment provisioner makes (enroll.IoTAPI, read by reflection,
// so a new call fails this test until the role has it).
func TestTaskRoleAllowsEnrolment(t *testing.T) {
	tpl := loadTemplate(t, templatePath)
	allowed := roleActions(t, tpl.Resources["TaskRole"])
	api := reflect.TypeOf((*enroll.IoTAPI)(nil)).Elem()
	require.Positive(t, api.NumMethod())
	var missing []string
	for i := 0; i < api.NumMethod(); i++ {
		if action := "iot:" + api.Method(i).Name; !allowed[action] {
			missing = append(missing, action)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "TaskRole lacks what cloud/enroll calls")
	for action := range allowed {
		assert.NotRegexp(t, `\*`, action, "no wildcard actions")
	}
}
