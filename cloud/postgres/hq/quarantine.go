package hq

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// quarantinePreview is how many raw bytes the HQ view shows (escaped: NUL and
// bytes that are not UTF-8 are visible as such).
const quarantinePreview = 160

// quarantined lists a branch's latest 50 quarantined events, newest first.
// Scope is checked by the caller (BranchView).
func (s *Store) quarantined(ctx context.Context, branch string) ([]QuarantinedEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, coalesce(seq::text, ''), event_id, type, reason, detail,
			length(raw), substring(raw FROM 1 FOR $2), received_at
		FROM ingest_quarantine WHERE branch = $1 ORDER BY received_at DESC, id DESC LIMIT 50`, branch, quarantinePreview)
	if err != nil {
		return nil, wrap("quarantined events", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (QuarantinedEvent, error) {
		var q QuarantinedEvent
		var head []byte
		err := r.Scan(&q.ID, &q.Seq, &q.EventID, &q.Type, &q.Reason, &q.Detail, &q.Bytes, &head, &q.ReceivedAt)
		q.Preview = preview(maskRUTFields(head))
		return q, err
	})
	if out == nil {
		out = []QuarantinedEvent{}
	}
	return out, wrap("quarantined events", err)
}

// preview shows raw bytes as text: control characters and bytes that are not
// UTF-8 as \xNN, so what made the event poison is visible.
func preview(raw []byte) string {
	var b strings.Builder
	for len(raw) > 0 {
		r, n := utf8.DecodeRune(raw)
		if (r == utf8.RuneError && n <= 1) || unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\x%02x", raw[0])
			raw = raw[1:]
			continue
		}
		b.Write(raw[:n])
		raw = raw[n:]
	}
	return b.String()
}
