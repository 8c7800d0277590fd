package web

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
)

func TestTileHTMLEscapes(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	tile := cloud.Tile{Branch: "SC-001", Name: `<script>alert("x")</script>`, Region: `R"M`, Waiting: 3, OldestQueuedAt: &at,
		LongestWaitS: 700, OverTargetS: 100, Called: 4, Decided: 8, WithinTarget: 3, Known: true, Online: false, OfflineFrom: &at, Backlog: 7, MaxSeq: 10, AppliedSeq: 8}
	got := string(tileHTML(tile, i18n.ES))
	assert.NotContains(t, got, "<script>")
	assert.Contains(t, got, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	assert.Contains(t, got, `data-region="R&#34;M"`)
	assert.Contains(t, got, `class="tile off late"`)
	assert.Contains(t, got, `data-waiting="3"`)
	assert.Contains(t, got, `<dd class="sla">37,5%</dd>`, "3 within of 8 decided (called or waiting past target), decimal comma in Spanish")
	assert.Contains(t, string(tileHTML(tile, i18n.EN)), `<dd class="sla">37.5%</dd>`)
	skew := int64(-3400)
	off := at.Add(time.Minute)
	tile.ClockSkewMS, tile.OfflineFrom = &skew, &off
	got = string(tileHTML(tile, i18n.ES))
	assert.Contains(t, got, `<span class="skew">reloj -0:03</span>`)
	assert.Contains(t, got, `sin conexión <span class="since" data-since="1800000060">`, "offline since the cloud saw it go, ticking in the browser")
	assert.Contains(t, got, "faltantes 2")
	assert.Contains(t, got, "+1:40 sobre la meta")
	assert.Contains(t, string(tileHTML(tile, i18n.EN)), "offline")
}
