package i18n

// Messages of HQ's alerts and service-level figures (issue 12, part 5).
func init() {
	Register(map[string]Message{
		"ui.branch.waiting_over":  {"{n} sobre la meta", "{n} over target"},
		"hq.alert.branch_stalled": {"nadie llamado hace %s con gente esperando", "nobody called for %s with people waiting"},
		"hq.tile.clock":           {"reloj", "clock"},
		"hq.tile.clock_unknown":   {"reloj sin medir", "clock not measured"},
		"hq.report.still_waiting": {"Siguen esperando", "Still waiting"},
		"hq.report.still_waiting_note": {
			"La espera media, el p90 y la meta incluyen a quienes siguen esperando, medidos hasta ahora; quien espera más que la meta de su servicio ya cuenta fuera de la meta.",
			"Mean wait, p90 and the target include those still waiting, measured up to now; anyone waiting longer than their service's target already counts as out of target.",
		},
		"telegram.alert.branch_stalled": {"%s: nadie llamado hace %s con gente esperando", "%s: nobody called for %s with people waiting"},
	})
}
