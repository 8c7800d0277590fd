package queue

import "strings"

// Phone is a Chilean mobile number in E.164 form, "+569XXXXXXXX" (the only
// numbers SMS reaches in Chile). The zero value is "no phone". Personal data:
// log it only through Masked.
type Phone string

// ParsePhone parses a mobile number as a person types it: "+56 9 1234 5678",
// "56912345678", "9 1234 5678", "912345678", with spaces, dots or hyphens.
// Errors are invalid with the reasons phone.empty, phone.format (not digits)
// and phone.not_mobile (not a +56 9 number of 8 digits after the 9).
func ParsePhone(s string) (Phone, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(CodeInvalid, "phone.empty")
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return "", Errorf(CodeInvalid, "phone.format")
		}
	}
	d := b.String()
	switch {
	case len(d) == 11 && strings.HasPrefix(d, "569"):
		d = d[2:]
	case len(d) == 9 && d[0] == '9':
	default:
		return "", Errorf(CodeInvalid, "phone.not_mobile")
	}
	return Phone("+56" + d), nil
}

// String is the E.164 form.
func (p Phone) String() string { return string(p) }

// Masked shows only the last two digits, for logs and screens: +56 9 **** **78.
func (p Phone) Masked() string {
	if len(p) < 4 {
		return "****"
	}
	return "+56 9 **** **" + string(p[len(p)-2:])
}
