package sns

import "strings"

// SMS length: one SMS carries 160 GSM-7 septets; a character outside the
// GSM-7 alphabet turns the whole message into UCS-2 (70 characters), so texts
// are transliterated to GSM-7 before they are sent.
const MaxSeptets = 160

// gsmBasic is the GSM 03.38 basic character set (one septet each).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExt is the extension table (two septets each: escape + char).
const gsmExt = "^{}\\[~]|€\f"

// toGSM maps common Spanish characters outside GSM-7 to their closest
// GSM-7 form.
var toGSM = strings.NewReplacer("á", "a", "í", "i", "ó", "o", "ú", "u", "Á", "A", "Í", "I", "Ó", "O", "Ú", "U",
	"ê", "e", "â", "a", "ô", "o", "ç", "c", "“", "\"", "”", "\"", "‘", "'", "’", "'", "–", "-", "—", "-", "…", "...",
	"\u00a0", " ")

// GSM7 returns s in the GSM-7 alphabet: Spanish accents the alphabet lacks
// lose their accent (é, ñ, ü, ¿ and ¡ stay), other characters become '?'.
func GSM7(s string) string {
	s = toGSM.Replace(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(gsmBasic, r) || strings.ContainsRune(gsmExt, r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// Septets counts the septets of s once encoded in GSM-7, and reports whether
// s is GSM-7 at all.
func Septets(s string) (int, bool) {
	n := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			n++
		case strings.ContainsRune(gsmExt, r):
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}

// Fit returns s in GSM-7, cut to one SMS (ending in "...") if it is longer.
func Fit(s string) string {
	s = GSM7(s)
	if n, _ := Septets(s); n <= MaxSeptets {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 {
		rs = rs[:len(rs)-1]
		if n, _ := Septets(string(rs)); n <= MaxSeptets-3 {
			break
		}
	}
	return string(rs) + "..."
}
