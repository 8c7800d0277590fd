package browsertest

import (
	"context"
	"testing"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// checkA11y asserts contrast and labels on what the tab shows now, and that
// axe-core finds nothing serious or critical (shared/testkit/chrometest).
func checkA11y(t *testing.T, tab context.Context, page string) {
	t.Helper()
	chrometest.Check(t, tab, page)
}
