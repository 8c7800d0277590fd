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
