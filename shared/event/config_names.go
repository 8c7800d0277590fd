package event

import "unicode/utf8"

// printableText reports whether s is valid UTF-8 of at most max characters
// without control characters: a name the kiosk, the printed ticket and the TV
// show as is.
func printableText(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return true
}
