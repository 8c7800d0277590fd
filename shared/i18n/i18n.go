// Package i18n is the one message catalogue of Ticketero: every string a person
// reads (error messages, UI labels, Telegram texts) is looked up here by a stable
// key, in Spanish (es-CL) first and English second.
package i18n

import (
	"fmt"
	"strings"
)

// Lang is a supported language tag.
type Lang string

// Supported languages. Spanish is the default everywhere.
const (
	ES Lang = "es"
	EN Lang = "en"
)

// Message is one catalogue entry.
type Message struct {
	ES string
	EN string
}

var catalogue = map[string]Message{}

// Register adds entries to the catalogue. It is called from init functions of the
// packages that own the strings (messages_*.go files here); a duplicate key panics at
// start-up so two meanings never share a key.
func Register(entries map[string]Message) {
	for k, v := range entries {
		if _, dup := catalogue[k]; dup {
			panic("i18n: duplicate key " + k)
		}
		catalogue[k] = v
	}
}

// Has reports whether key is in the catalogue.
func Has(key string) bool { _, ok := catalogue[key]; return ok }

// Keys returns every key in the catalogue (for tests that check completeness).
func Keys() []string {
	out := make([]string, 0, len(catalogue))
	for k := range catalogue {
		out = append(out, k)
	}
	return out
}

// T returns the message for key in lang, formatted with args (fmt verbs). An unknown
// key returns the key itself so a missing entry is visible but never crashes.
func T(lang Lang, key string, args ...any) string {
	m, ok := catalogue[key]
	if !ok {
		return key
	}
	s := m.ES
	if lang == EN && m.EN != "" {
		s = m.EN
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Parse picks a supported language from an Accept-Language header or a tag such as
// "en-US"; anything else (or nothing) is Spanish.
func Parse(acceptLanguage string) Lang {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "es"):
			return ES
		case strings.HasPrefix(tag, "en"):
			return EN
		}
	}
	return ES
}
