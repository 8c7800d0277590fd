package queue

// BranchID identifies a branch: upper-case letters, digits and hyphens, 1 to 32
// characters, e.g. "SCL-001". It is also the MQTT client ID, the IoT thing name
// and the certificate CN, so it must be safe inside a topic.
type BranchID string

// ParseBranchID validates s as a branch ID. Errors: invalid branch.invalid.
func ParseBranchID(s string) (BranchID, error) {
	if len(s) == 0 || len(s) > 32 {
		return "", Errorf(CodeInvalid, "branch.invalid", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", Errorf(CodeInvalid, "branch.invalid", s)
		}
	}
	return BranchID(s), nil
}

// Valid reports whether b is a well-formed branch ID.
func (b BranchID) Valid() bool { _, err := ParseBranchID(string(b)); return err == nil }

// String returns the ID.
func (b BranchID) String() string { return string(b) }
