package i18n

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// TestUIMessages checks every UI string: both languages written, the same
// {placeholders} in both (the scripts fill them), and no fmt verbs, which the
// scripts would print raw.
func TestUIMessages(t *testing.T) {
	n := 0
	for key, m := range catalogue {
		if !strings.HasPrefix(key, "ui.") {
			continue
		}
		n++
		assert.NotEmpty(t, m.ES, key)
		assert.NotEmpty(t, m.EN, key)
		es, en := placeholder.FindAllString(m.ES, -1), placeholder.FindAllString(m.EN, -1)
		slices.Sort(es)
		slices.Sort(en)
		assert.Equal(t, es, en, "placeholders of %s", key)
		assert.NotContains(t, m.ES, "%", key)
		assert.NotContains(t, m.EN, "%", key)
	}
	assert.Greater(t, n, 100)
	assert.Equal(t, "Número C 23, módulo 5", strings.NewReplacer("{letter}", "C", "{n}", "23", "{counter}", "5").Replace(T(ES, "ui.display.speech")))
}
