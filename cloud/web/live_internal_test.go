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

// A burst of changed tiles larger than a client's queue would be with an
// entry per tile (600 tiles here against 64 entries; 5,000 branches signing
// in at once against 512 in production) goes in chunks of liveChunk tiles
// (38 entries): the stream is kept, each client gets the tiles its scope
// allows in its language, and clients alike share the buffers.
func TestHubBurstChunks(t *testing.T) {
	b := newHub(nil)
	national := &client{scope: cloud.AllBranches, lang: i18n.ES, ch: make(chan []byte, 64), gone: make(chan struct{})}
	national2 := &client{scope: cloud.AllBranches, lang: i18n.ES, ch: make(chan []byte, 64), gone: make(chan struct{})}
	north := &client{scope: cloud.Scope{Regions: []string{"N"}}, lang: i18n.EN, ch: make(chan []byte, 64), gone: make(chan struct{})}
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
	}
	drain := func(c *client) (all string, first []byte) {
		for len(c.ch) > 0 {
			m := <-c.ch
			if first == nil {
				first = m
			}
			assert.LessOrEqual(t, strings.Count(string(m), "event: tile\n"), liveChunk)
			all += string(m)
		}
		return all, first
	}
	require.Len(t, national.ch, (n+liveChunk-1)/liveChunk)
	m, first := drain(national)
	_, first2 := drain(national2)
	assert.Equal(t, n, strings.Count(m, "event: tile\n"))
	assert.Contains(t, m, `"html":"\u003cdiv\u003ees BR-599`)
	assert.Same(t, &first[0], &first2[0], "clients of one scope and language share the buffers")
	mn, _ := drain(north)
	assert.Equal(t, n/3, strings.Count(mn, "event: tile\n"), "only the region's tiles")
	assert.NotContains(t, mn, "BR-001")
	assert.Contains(t, mn, "en BR-003")
}
