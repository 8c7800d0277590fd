package cloud

import "strings"

// SMSText is t as an SMS says it: the catalogue's sms.* text of the same
// message when there is one (short, GSM-7), else t itself.
func SMSText(t Text) Text {
	if k, ok := strings.CutPrefix(t.Key, "telegram."); ok {
		t.Key = "sms." + k
	}
	return t
}
