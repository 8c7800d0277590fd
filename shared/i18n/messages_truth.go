package i18n

// Messages that relay the branch's own figures (position, estimate) to a
// customer, with the time of the figure when it is not current.
func init() {
	Register(map[string]Message{
		"telegram.confirm_at": {
			"Tu número es %s. A las %s tenías %s personas antes que tú; espera estimada entonces: %s. Te avisaremos cuando falte poco; puedes salir y volver a tiempo.",
			"Your number is %s. At %s there were %s people ahead of you; estimated wait then: %s. We will let you know when your turn is near; you may leave and come back in time.",
		},
		"telegram.status_at": {
			"Número %s: %s. A las %s había %s personas antes que tú; espera estimada entonces: %s. Te avisaremos cuando falte poco.",
			"Number %s: %s. At %s there were %s people ahead of you; estimated wait then: %s. We will let you know when your turn is near.",
		},
		"hq.rules.notice_service":         {"Aviso previo por servicio (ej. P=1 G=2)", "Advance notice per service (e.g. P=1 G=2)"},
		"hq.rules.notice_service_invalid": {"Aviso previo por servicio no válido: %s (use CÓDIGO=números antes, de 0 a 50, de un servicio de la sucursal).", "Invalid advance notice per service: %s (use CODE=tickets ahead, 0 to 50, of a service of the branch)."},
		"ticket.not_waiting":              {"El número %s no está en espera (%s).", "Ticket %s is not waiting (%s)."},
		"telegram.placed": {
			"Número %s ahora: personas antes que tú: %s. Espera estimada: %s.",
			"Number %s now: people ahead of you: %s. Estimated wait: %s.",
		},
		"telegram.transferred_place": {
			"Tu número %s fue derivado a %s. Personas antes que tú: %s. Espera estimada: %s.",
			"Your number %s was transferred to %s. People ahead of you: %s. Estimated wait: %s.",
		},
	})
}
