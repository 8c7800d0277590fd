package ingest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// Results of opening a sealed RUT (label of ticketero_cloud_rut_sealed_total).
const (
	RUTHashed     = "hashed"     // opened, a valid RUT, hashed
	RUTUnopenable = "unopenable" // not base64, not sealed to this cloud's key, or tampered with
	RUTInvalid    = "invalid"    // opened, but not a valid RUT
	RUTNoKey      = "no_key"     // the cloud has no RUT key (TICKETERO_RUT_KEY unset)
)

// RUTPseudonyms turns the sealed RUT of ticket.issued (Issued.RUTSealed, sealed
// by the branch to the cloud's public key) into the network-wide keyed hash
// (Issued.RUTHash) before anything is stored: the events table, the
// projections and the notification jobs see only the hash, never the RUT nor
// its sealed form. Only the cloud holds the hash key (docs/privacy.md). A
// sealed RUT that does not open is the event's own problem: the ticket is
// projected without a hash, the fault counted and logged (no payload).
type RUTPseudonyms struct {
	keys   *seal.RUTKeys // nil: no key, sealed RUTs are dropped
	log    *slog.Logger
	sealed *prometheus.CounterVec
}

// NewRUTPseudonyms counts on reg (nil: unregistered); keys nil drops every
// sealed RUT (counted as no_key).
func NewRUTPseudonyms(keys *seal.RUTKeys, reg prometheus.Registerer, log *slog.Logger) *RUTPseudonyms {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &RUTPseudonyms{keys: keys, log: log.With("component", "ingest"),
		sealed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_cloud_rut_sealed_total",
			Help: "Sealed RUTs received on ticket.issued, by result (hashed, unopenable, invalid, no_key)."},
			[]string{"result"})}
	for _, l := range []string{RUTHashed, RUTUnopenable, RUTInvalid, RUTNoKey} {
		r.sealed.WithLabelValues(l)
	}
	if reg != nil {
		reg.MustRegister(r.sealed)
	}
	return r
}

// SetKeys sets the cloud's RUT keys; call it before the first Apply.
func (r *RUTPseudonyms) SetKeys(keys *seal.RUTKeys) { r.keys = keys }

// Counter is the result counter (ticketero_cloud_rut_sealed_total).
func (r *RUTPseudonyms) Counter() *prometheus.CounterVec { return r.sealed }

var sealedField = []byte(`"rut_sealed"`)

// mayCarrySealed says data may hold a rut_sealed key as Go decodes keys
// (case-insensitively, escapes resolved): `"rut_sealed"` in any ASCII case,
// an escape, or U+017F (ſ, which encoding/json folds to s: `"rut_ſealed"`
// fills RUTSealed; no other non-ASCII rune stands for a letter of the key,
// checked over every rune). It is bytes.Contains(bytes.ToLower(data),
// sealedField) || bytes.Contains(data, `\u`) || bytes.Contains(data, "ſ")
// without the lower-cased copy: no non-ASCII rune lower-cases to a letter of
// rut_sealed (only U+0130 and U+212A lower-case to ASCII, to i and k), so a
// match in the copy is a run of data's own ASCII bytes
// (TestMayCarrySealedAsToLower, TestMayCarrySealedWhereGoDecodesIt).
func mayCarrySealed(data []byte) bool {
	if bytes.Contains(data, []byte(`\u`)) || bytes.Contains(data, []byte("\u017f")) {
		return true
	}
	// From each '_' (few in a payload), the one of `"rut_sealed"`.
	const under = 4 // sealedField[under] == '_'
	for i := under; i+len(sealedField)-under <= len(data); i++ {
		j := bytes.IndexByte(data[i:len(data)-(len(sealedField)-under-1)], '_')
		if j < 0 {
			return false
		}
		i += j
		if asciiFoldEqual(data[i-under:i-under+len(sealedField)], sealedField) {
			return true
		}
	}
	return false
}

// asciiFoldEqual says a equals lower (lower case, same length) with ASCII
// letters of a in either case.
func asciiFoldEqual(a, lower []byte) bool {
	for k, c := range a {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[k] {
			return false
		}
	}
	return true
}

// Apply rewrites, in place, each ticket.issued of evs that carries rut_sealed:
// rut_sealed goes, rut_hash is the cloud's keyed hash of the opened RUT (or
// absent when it does not open). Other events and fields are left as they
// are. A nil receiver (a Processor built without New) drops sealed RUTs
// uncounted.
func (r *RUTPseudonyms) Apply(branch string, evs []event.Event) []event.Event {
	if r == nil {
		r = &RUTPseudonyms{log: slog.New(slog.DiscardHandler)}
	}
	for i := range evs {
		e := &evs[i]
		if e.Type != event.TicketIssued || !mayCarrySealed(e.Data) {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(e.Data, &fields); err != nil {
			continue // malformed: the store refuses it on its own
		}
		// Keys as Go decodes them into Issued: case-insensitively (and
		// unescaped), so no spelling of the field slips through stored.
		var raw json.RawMessage
		for k, v := range fields {
			if strings.EqualFold(k, "rut_sealed") {
				raw = v
				delete(fields, k)
			}
		}
		if raw == nil {
			continue
		}
		// The cloud's hash is the only one trusted next to a sealed RUT.
		for k := range fields {
			if strings.EqualFold(k, "rut_hash") {
				delete(fields, k)
			}
		}
		hash, result := r.hash(raw)
		if r.sealed != nil {
			r.sealed.WithLabelValues(result).Inc()
		}
		if hash != "" {
			fields["rut_hash"], _ = json.Marshal(hash)
		} else {
			// Never the sealed value nor the RUT: the fault and where it is.
			r.log.Warn("sealed RUT not hashed: ticket projected without a RUT pseudonym", "branch", branch,
				"seq", e.Seq, "event", e.ID, "result", result)
		}
		data, err := json.Marshal(fields)
		if err != nil {
			continue
		}
		e.Data = data
	}
	return evs
}

func (r *RUTPseudonyms) hash(raw json.RawMessage) (string, string) {
	if r.keys == nil {
		return "", RUTNoKey
	}
	var sealed string
	if err := json.Unmarshal(raw, &sealed); err != nil {
		return "", RUTUnopenable
	}
	plain, err := r.keys.Open(sealed)
	if err != nil {
		return "", RUTUnopenable
	}
	rut, err := queue.ParseRUT(plain)
	if err != nil || rut.String() != plain {
		// The box seals the normalised RUT: anything else is not one of ours.
		return "", RUTInvalid
	}
	return r.keys.Hash(rut.String()), RUTHashed
}
