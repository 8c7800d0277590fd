package i18n

// Estimates past the hour and past the cap on the branch pages (agent/web
// common.js waitRange), issue 15.
func init() {
	Register(map[string]Message{
		"ui.wait.hours":      {"{h} h", "{h} h"},
		"ui.wait.hours_min":  {"{h} h {m}", "{h} h {m}"},
		"ui.wait.range_long": {"entre {low} y {high}", "between {low} and {high}"},
		"ui.wait.or_more":    {"{low} o más", "{low} or more"},
		"ui.wait.over":       {"más de {h} horas", "more than {h} hours"},
	})
}
