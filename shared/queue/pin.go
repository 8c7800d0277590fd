package queue

// MinPINLength and MaxPINLength bound an executive's PIN set from now on,
// at the branch (ticketero-agent executive add|set-pin) and at HQ (the
// configuration page): one policy, so a PIN HQ publishes is one the branch
// would accept. Shorter PINs of older versions still sign in at the branch
// (flagged to change).
const (
	MinPINLength = 6
	MaxPINLength = 12
)

// ValidPIN reports whether pin may be set as an executive's PIN:
// MinPINLength to MaxPINLength ASCII digits, not one digit repeated and not a
// run up or down (123456, 987654, 890123), the first guesses of anyone.
func ValidPIN(pin string) bool {
	if len(pin) < MinPINLength || len(pin) > MaxPINLength {
		return false
	}
	same, up, down := true, true, true
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return false
		}
		if i > 0 {
			d := int(pin[i]) - int(pin[i-1])
			same = same && d == 0
			up = up && (d == 1 || d == -9)
			down = down && (d == -1 || d == 9)
		}
	}
	return !same && !up && !down
}
