package queue

import (
	"regexp"
	"slices"
)

// Outcome is an outcome code of a visit as HQ configures it ("deposit",
// "Depósito"): the executive marks one or more at "Finalizar" and HQ's
// reports count visits by code.
type Outcome struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// MaxOutcomes is how many outcome codes one visit may carry.
const MaxOutcomes = 5

var outcomeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidOutcomeCode reports whether code is an outcome code: 1 to 64 of
// a-z 0-9 _ . - starting with a letter or digit (no comma: a visit's codes
// are stored comma-joined).
func ValidOutcomeCode(code string) bool { return outcomeRe.MatchString(code) }

// Validate checks an outcome. Errors: invalid outcome.invalid.
func (o Outcome) Validate() error {
	if !ValidOutcomeCode(o.Code) || o.Name == "" || !ValidText(o.Name, 64) {
		return Errorf(CodeInvalid, "outcome.invalid", o.Code)
	}
	return nil
}

// Pause reasons an executive chooses from (the terminal's list; HQ reports
// pauses by these codes). A pause with free text only counts as "other".
const (
	PauseLunch      = "lunch"
	PauseBreak      = "break"
	PauseMeeting    = "meeting"
	PauseBackoffice = "backoffice"
	PauseTraining   = "training"
	PauseOther      = "other"
)

// PauseReasons lists the pause reason codes in the order screens offer them.
var PauseReasons = []string{PauseLunch, PauseBreak, PauseMeeting, PauseBackoffice, PauseTraining, PauseOther}

// ValidPauseReason reports whether code is one of PauseReasons.
func ValidPauseReason(code string) bool { return slices.Contains(PauseReasons, code) }

// Transfer targets: a transfer sends a ticket to another service, to a
// counter or to a named executive (TransferTarget says which, for texts).
const (
	TargetService   = "service"
	TargetCounter   = "counter"
	TargetExecutive = "executive"
)
