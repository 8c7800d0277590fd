package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// QuarantinedType is the type of the placeholder stored in events at the seq
// of a quarantined event: the branch's stream stays gap-free and goes on past
// it. It is no protocol type (no box sends it); projections skip it as unknown.
const QuarantinedType event.Type = "cloud.quarantined"

// maxQuarantineRaw caps the raw bytes kept of one quarantined message.
const maxQuarantineRaw = 256 << 10

// IngestRefused stores b like Ingest, with the events refused at decoding:
// each is kept raw in ingest_quarantine; one with a seq up to 2^63−1 leaves a
// placeholder (QuarantinedType) in events so its seq counts as done and the
// ack moves past it; seqs above 2^63−1 (which no column holds) are acked past
// once everything before them is applied. When the database refuses the
// batch's data (isDataError: SQLSTATE class 22 such as NUL, bad encoding, a
// number out of range, or a class 54 limit), the events are stored one by one
// and each refused one is quarantined the same way. Any other error is
// internal: nothing is acked, the agent resends.
func (s *EventStore) IngestRefused(ctx context.Context, b event.Batch, refused []event.Refused) (cloud.IngestResult, error) {
	res := cloud.IngestResult{Branch: b.Branch}
	evs := append([]event.Event(nil), b.Events...)
	var beyond uint64
	for _, r := range refused {
		switch {
		case r.Seq > math.MaxInt64:
			beyond = max(beyond, r.Seq)
		case r.Seq != 0:
			evs = append(evs, s.placeholder(r))
		}
	}
	fresh, err := s.quarantine(ctx, b.Branch, refused)
	if err != nil {
		return res, err
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Seq < evs[j].Seq })
	uniq := evs[:0]
	for _, e := range evs {
		if len(uniq) == 0 || uniq[len(uniq)-1].Seq != e.Seq {
			uniq = append(uniq, e)
		}
	}
	// Each payload is decoded once, here (a no-op for events from the codec,
	// which decoded them already); projection and jobs read it.
	for i := range uniq {
		_, _ = uniq[i].Decode()
	}
	b.Events = uniq
	res, err = s.ingest(ctx, b)
	var more []event.Refused
	if isDataError(err) {
		s.log.Warn("batch refused as data; storing its events one by one", "branch", b.Branch, "events", len(uniq), "err", err)
		res, more, err = s.ingestEach(ctx, b.Branch, uniq)
	}
	res.Quarantined = append(append(res.Quarantined, fresh...), more...)
	if err != nil {
		return res, err
	}
	if beyond > res.Applied && res.Gap == 0 && res.MaxSeq <= res.Applied {
		// Everything before is applied: ack past the seqs no column holds.
		res.Applied = beyond
	}
	return res, nil
}

// ingestEach stores evs one event per transaction, quarantining each event
// the database refuses as data. It is the slow path after a data error.
func (s *EventStore) ingestEach(ctx context.Context, branch string, evs []event.Event) (cloud.IngestResult, []event.Refused, error) {
	total := cloud.IngestResult{Branch: branch}
	var quarantined []event.Refused
	for _, e := range evs {
		one := event.Batch{V: event.Version, Branch: branch, Events: []event.Event{e}}
		res, err := s.ingest(ctx, one)
		if isDataError(err) {
			raw, _ := json.Marshal(e)
			r := event.Refused{Seq: e.Seq, ID: e.ID, Type: string(e.Type), At: e.At, Raw: raw,
				Reason: event.RejectData, Detail: err.Error()}
			fresh, qerr := s.quarantine(ctx, branch, []event.Refused{r})
			if qerr != nil {
				return total, quarantined, qerr
			}
			quarantined = append(quarantined, fresh...)
			one.Events = []event.Event{s.placeholder(r)}
			res, err = s.ingest(ctx, one)
		}
		if err != nil {
			return total, quarantined, err
		}
		total.Stored += res.Stored
		total.Applied, total.Gap, total.MaxSeq = res.Applied, res.Gap, res.MaxSeq
	}
	return total, quarantined, nil
}

// placeholder is what events holds at a quarantined event's seq. Its ID is the
// event's own when that is valid text (so a resend is a plain duplicate), else
// one derived from the raw bytes (the same for every resend).
func (s *EventStore) placeholder(r event.Refused) event.Event {
	id := r.ID
	if id == "" || len(id) > 64 || cleanText(id, 64) != id {
		sum := sha256.Sum256(r.Raw)
		id = "q-" + hex.EncodeToString(sum[:16])
	}
	at := r.At
	if at.IsZero() {
		at = s.Now()
	}
	data, _ := json.Marshal(map[string]string{"reason": r.Reason})
	return event.Event{Seq: r.Seq, ID: id, Type: QuarantinedType, At: at.UTC(), Data: data}
}

// Quarantine stores refused events or messages raw in ingest_quarantine, once
// per branch and content (a resend adds nothing), and returns how many were new.
func (s *EventStore) Quarantine(ctx context.Context, branch string, refused []event.Refused) (int, error) {
	fresh, err := s.quarantine(ctx, branch, refused)
	return len(fresh), err
}

// quarantine is Quarantine returning the refused newly stored (not resends).
func (s *EventStore) quarantine(ctx context.Context, branch string, refused []event.Refused) ([]event.Refused, error) {
	if len(refused) == 0 {
		return nil, nil
	}
	n := len(refused)
	seqs := make([]*string, n)
	ids, types, reasons, details := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	raws, sums := make([][]byte, n), make([][]byte, n)
	for i, r := range refused {
		if r.Seq != 0 {
			seqs[i] = ptr(strconv.FormatUint(r.Seq, 10))
		}
		ids[i], types[i] = cleanText(r.ID, 200), cleanText(r.Type, 200)
		reasons[i], details[i] = cleanText(r.Reason, 64), cleanText(r.Detail, 1000)
		sum := sha256.Sum256(r.Raw)
		sums[i], raws[i] = sum[:], r.Raw
		if len(raws[i]) > maxQuarantineRaw {
			raws[i] = raws[i][:maxQuarantineRaw]
		}
		if raws[i] == nil {
			raws[i] = []byte{}
		}
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO ingest_quarantine (branch, seq, event_id, type, raw, raw_sha256, reason, detail, received_at)
		SELECT $1, u.seq::numeric, u.id, u.type, u.raw, u.sum, u.reason, u.detail, $9
		FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::text[], $8::text[])
			AS u(seq, id, type, raw, sum, reason, detail)
		ON CONFLICT (branch, raw_sha256) DO NOTHING RETURNING raw_sha256`,
		cleanText(branch, 200), seqs, ids, types, raws, sums, reasons, details, s.Now())
	if err == nil {
		var stored [][]byte
		if stored, err = pgx.CollectRows(rows, pgx.RowTo[[]byte]); err == nil {
			var fresh []event.Refused
			for i, r := range refused {
				if slices.ContainsFunc(stored, func(b []byte) bool { return bytes.Equal(b, sums[i]) }) {
					fresh = append(fresh, r)
				}
			}
			return fresh, nil
		}
	}
	return nil, fmt.Errorf("postgres: quarantine %s: %w", cleanText(branch, 64), err)
}

// isDataError reports a PostgreSQL error that the data itself causes, so
// retrying cannot help: a data exception (SQLSTATE class 22: 22P05
// untranslatable character, 22021 bad byte sequence, 22003 number out of
// range...) or a program limit an event's content reaches (class 54: 54001
// stack depth for a deeply nested payload). Anything else (connection lost,
// shutdown, serialization) is transient.
func isDataError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "54"))
}

// cleanText makes s storable in a TEXT column: valid UTF-8 without NUL, at
// most n bytes (cut on a rune boundary).
func cleanText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
