package i18n

// Messages added by the independent review of issues 12 and 13.
func init() {
	Register(map[string]Message{
		// The opening hours a branch runs when it never received any from HQ.
		"hq.config.hours.none": {"sin horario (abierta todo el día)", "no hours (open all day)"},
	})
}
