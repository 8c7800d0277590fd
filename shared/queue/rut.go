package queue

import (
	"strconv"
	"strings"
)

// RUT is a Chilean national ID (Rol Único Tributario) in normal form: the body
// digits without leading zeros, a hyphen and the check digit (0-9 or K), e.g.
// "12345678-5". The zero value is "no RUT".
type RUT string

// RUT bodies accepted: 1,000,000 (a 7-digit body) up to 99,999,999 cover people
// and companies in use today.
const (
	rutMinBody = 1_000_000
	rutMaxBody = 99_999_999
)

// ParseRUT parses s as written by a person or a kiosk: "12.345.678-5",
// "12345678-5", "123456785", a lower-case "k", surrounding spaces. It validates the
// mod-11 check digit. Errors are invalid with the reasons rut.empty, rut.format,
// rut.too_short, rut.too_long and rut.check_digit.
func ParseRUT(s string) (RUT, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(CodeInvalid, "rut.empty")
	}
	s = strings.ToUpper(s)
	var body, dv string
	if i := strings.IndexByte(s, '-'); i >= 0 {
		body, dv = s[:i], s[i+1:]
		if len(dv) != 1 {
			return "", Errorf(CodeInvalid, "rut.format")
		}
	} else {
		if len(s) < 2 {
			return "", Errorf(CodeInvalid, "rut.too_short")
		}
		body, dv = s[:len(s)-1], s[len(s)-1:]
	}
	if strings.Contains(body, ".") {
		if !validDots(body) {
			return "", Errorf(CodeInvalid, "rut.format")
		}
		body = strings.ReplaceAll(body, ".", "")
	}
	if body == "" {
		return "", Errorf(CodeInvalid, "rut.too_short")
	}
	for _, r := range body {
		if r < '0' || r > '9' {
			return "", Errorf(CodeInvalid, "rut.format")
		}
	}
	if dv[0] != 'K' && (dv[0] < '0' || dv[0] > '9') {
		return "", Errorf(CodeInvalid, "rut.format")
	}
	trimmed := strings.TrimLeft(body, "0")
	if len(trimmed) > 8 {
		return "", Errorf(CodeInvalid, "rut.too_long")
	}
	n, _ := strconv.Atoi(trimmed) // at most 8 digits: always fits
	if n < rutMinBody {
		return "", Errorf(CodeInvalid, "rut.too_short")
	}
	if n > rutMaxBody {
		return "", Errorf(CodeInvalid, "rut.too_long")
	}
	if CheckDigit(n) != dv[0] {
		return "", Errorf(CodeInvalid, "rut.check_digit")
	}
	return RUT(trimmed + "-" + dv), nil
}

// validDots reports whether body groups its digits by thousands with dots:
// "12.345.678", "1.234.567".
func validDots(body string) bool {
	groups := strings.Split(body, ".")
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

// CheckDigit returns the mod-11 check digit of a RUT body: '0'-'9' or 'K'.
func CheckDigit(body int) byte {
	sum, mul := 0, 2
	for body > 0 {
		sum += (body % 10) * mul
		body /= 10
		mul++
		if mul > 7 {
			mul = 2
		}
	}
	switch r := 11 - sum%11; r {
	case 11:
		return '0'
	case 10:
		return 'K'
	default:
		return byte('0' + r)
	}
}

// String returns the RUT in normal form.
func (r RUT) String() string { return string(r) }

// Format returns the RUT with thousands dots, as printed: "12.345.678-5".
func (r RUT) Format() string {
	body, dv, ok := strings.Cut(string(r), "-")
	if !ok {
		return string(r)
	}
	var b strings.Builder
	for i, c := range body {
		if i > 0 && (len(body)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String() + "-" + dv
}

// Masked returns the RUT safe for logs: the first two digits and the check digit,
// "12.***.***-5". The empty RUT masks to "".
func (r RUT) Masked() string {
	body, dv, ok := strings.Cut(string(r), "-")
	if !ok || len(body) < 2 {
		if r == "" {
			return ""
		}
		return "***"
	}
	if len(body) == 7 {
		return body[:1] + ".***.***-" + dv
	}
	return body[:2] + ".***.***-" + dv
}
