package web

import (
	"fmt"
	"html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
)

// A burst of changed tiles larger than a client's queue (600 against 256
// entries, as 5,000 branches signing in at once give a national viewer) is
// one queue entry per client: the stream is kept, each client gets the tiles
// its scope allows in its language, and clients alike share one buffer. One
// entry per tile overflowed the queue and dropped the stream.
func TestHubBurstOneEntryPerPush(t *testing.T) {
	b := newHub(nil)
	national := &client{scope: cloud.AllBranches, lang: i18n.ES, ch: make(chan []byte, 256), gone: make(chan struct{})}
	national2 := &client{scope: cloud.AllBranches, lang: i18n.ES, ch: make(chan []byte, 256), gone: make(chan struct{})}
	north := &client{scope: cloud.Scope{Regions: []string{"N"}}, lang: i18n.EN, ch: make(chan []byte, 256), gone: make(chan struct{})}
	for _, c := range []*client{national, national2, north} {
		b.clients[c] = struct{}{}
	}
	const n = 600
	var changed []*shownTile
	for i := range n {
		region := "S"
		if i%3 == 0 {
			region = "N"
		}
		id := fmt.Sprintf("BR-%03d", i)
		changed = append(changed, &shownTile{Tile: cloud.Tile{Branch: id, Region: region},
			html: [2]template.HTML{template.HTML("<div>es " + id + "</div>"), template.HTML("<div>en " + id + "</div>")}})
	}
	require.NoError(t, b.pushTiles(changed))

	assert.Len(t, b.clients, 3, "no stream dropped")
	for _, c := range []*client{national, national2, north} {
		select {
		case <-c.gone:
			t.Fatal("stream dropped")
		default:
		}
		require.Len(t, c.ch, 1, "one queue entry for the push")
	}
	m := <-national.ch
	assert.Equal(t, n, strings.Count(string(m), "event: tile\n"))
	assert.Contains(t, string(m), `"html":"\u003cdiv\u003ees BR-599`)
	assert.Same(t, &m[0], &(<-national2.ch)[0], "clients of one scope and language share the buffer")
	mn := string(<-north.ch)
	assert.Equal(t, n/3, strings.Count(mn, "event: tile\n"), "only the region's tiles")
	assert.NotContains(t, mn, "BR-001")
	assert.Contains(t, mn, "en BR-003")
}
