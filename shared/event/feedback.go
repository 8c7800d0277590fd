package event

// FeedbackGiven is a customer's answer on the counter tablet after his visit:
// satisfaction 1–5 and, optionally, would-recommend 0–10. The cloud keeps
// one answer per visit (the first), with the visit's context from its
// projection.
const FeedbackGiven Type = "feedback.given"

// Feedback is feedback.given: the visit rated (the last finished at the
// counter) and the answers.
type Feedback struct {
	TicketRef
	CSAT int  `json:"csat"`
	NPS  *int `json:"nps,omitempty"`
}

// CommandExecutiveScores gives a branch its executives' customer scores
// (Command.Scores), so each sees his own at the terminal. Sent again when
// the figures change; the branch keeps the last it received.
const CommandExecutiveScores = "executive.scores"

// ExecutiveScore is one executive's customer scores over the last Days days:
// answers, CSAT (% of satisfaction 4–5), mean satisfaction (1–5) and NPS
// (-100..100).
type ExecutiveScore struct {
	Executive string  `json:"executive"`
	Days      int     `json:"days"`
	Answers   int     `json:"answers"`
	CSATPct   float64 `json:"csat_pct"`
	MeanCSAT  float64 `json:"mean_csat"`
	NPS       float64 `json:"nps"`
}
