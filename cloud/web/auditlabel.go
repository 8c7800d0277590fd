package web

import (
	"regexp"
	"slices"
	"strings"

	"github.com/ticketero/ticketero/shared/i18n"
)

// auditActionPrefix keys the catalogue's label of every audit action
// (hq.audit.act.<action as stored>); a test checks that every action written
// anywhere in cloud/ has one.
const auditActionPrefix = "hq.audit.act."

// auditAction is the audit action in plain words; an action without a label
// (a newer writer, an old row) shows as stored.
func auditAction(lang i18n.Lang, action string) string {
	if k := auditActionPrefix + action; i18n.Has(k) {
		return i18n.T(lang, k)
	}
	return action
}

// auditDetail is an audit row's detail in plain words where it is a known
// code (a sign-in refusal's cause, a user operation) or a known form
// ("tickets <day>", "version <n>"); other details (free text written by the
// action, e.g. a configuration diff) show as stored.
func auditDetail(lang i18n.Lang, detail string) string {
	if k := "hq.audit.detail." + detail; detail != "" && i18n.Has(k) {
		return i18n.T(lang, k)
	}
	for _, p := range []string{"tickets", "version"} {
		if rest, ok := strings.CutPrefix(detail, p+" "); ok && rest != "" && !strings.Contains(rest, " ") {
			return i18n.T(lang, "hq.audit.detail."+p, rest)
		}
	}
	return auditWords(lang, detail)
}

// auditToken is a quoted value (kept whole) or a run without spaces.
var auditToken = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\S+`)

// auditWords puts the words and key=value names of a detail written by code
// ("executive E1 \"Ana\" services=C,P pin_set=true", "counter=2 failures=3")
// in the page's language (hq.audit.word.<word>); values, quoted names and
// unknown words stay as written.
func auditWords(lang i18n.Lang, detail string) string {
	word := func(w string) (string, bool) {
		if k := "hq.audit.word." + w; i18n.Has(k) {
			return i18n.T(lang, k), true
		}
		return w, false
	}
	changed := false
	out := auditToken.ReplaceAllStringFunc(detail, func(tok string) string {
		if strings.HasPrefix(tok, `"`) {
			return tok
		}
		if k, v, ok := strings.Cut(tok, "="); ok {
			l, known := word(k)
			if !known {
				return tok
			}
			changed = true
			switch v {
			case "true":
				v = i18n.T(lang, "hq.audit.word.yes")
			case "false":
				v = i18n.T(lang, "hq.audit.word.no")
			}
			return l + "=" + v
		}
		l, known := word(tok)
		changed = changed || known
		return l
	})
	if !changed {
		return detail
	}
	return out
}

// auditChoice is an option of the audit page's action filter.
type auditChoice struct{ Value, Label string }

// auditChoices lists every labelled action, by label.
func auditChoices(lang i18n.Lang) []auditChoice {
	var out []auditChoice
	for _, k := range i18n.Keys() {
		if a, ok := strings.CutPrefix(k, auditActionPrefix); ok {
			out = append(out, auditChoice{Value: a, Label: i18n.T(lang, k)})
		}
	}
	slices.SortFunc(out, func(a, b auditChoice) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// AuditAction is auditAction in the page's language.
func (v *view) AuditAction(action string) string { return auditAction(v.Lang, action) }

// AuditDetail is auditDetail in the page's language.
func (v *view) AuditDetail(detail string) string { return auditDetail(v.Lang, detail) }

// AuditChoices is auditChoices in the page's language.
func (v *view) AuditChoices() []auditChoice { return auditChoices(v.Lang) }
