package i18n

// Messages of the Telegram bot (customers) and of the supervisors' alert
// digests. Arguments are pre-formatted strings.
func init() {
	Register(map[string]Message{
		"telegram.confirm": {
			"Tu número es %s. Personas antes que tú: %s. Espera estimada: %s. Te avisaremos cuando falte poco; puedes salir y volver a tiempo.",
			"Your number is %s. People ahead of you: %s. Estimated wait: %s. We will let you know when your turn is near; you may leave and come back in time.",
		},
		"telegram.prenotice": {
			"Tu número %s se acerca: quedan %s personas antes que tú. Vuelve a la sucursal.",
			"Your number %s is coming up: %s people ahead of you. Please come back to the branch.",
		},
		"telegram.called": {
			"¡Es tu turno! Número %s: dirígete al módulo %s, te atiende %s.",
			"It is your turn! Number %s: please go to counter %s, %s will serve you.",
		},
		"telegram.called_anon": {
			"¡Es tu turno! Número %s: dirígete al módulo %s.",
			"It is your turn! Number %s: please go to counter %s.",
		},
		"telegram.recalled": {
			"Te estamos llamando otra vez: número %s, módulo %s. Acércate ahora.",
			"We are calling you again: number %s, counter %s. Please come now.",
		},
		"telegram.transferred": {
			"Tu número %s fue derivado a %s. Sigues en la fila; te avisaremos.",
			"Your number %s was transferred to %s. You are still in line; we will let you know.",
		},
		"telegram.no_show": {
			"No te encontramos cuando llamamos al número %s. Si sigues en la sucursal, acércate a un ejecutivo.",
			"We could not find you when number %s was called. If you are still at the branch, please talk to an executive.",
		},
		"telegram.cancelled": {
			"Tu número %s fue anulado.",
			"Your number %s was cancelled.",
		},
		"telegram.day_closed": {
			"La sucursal cerró la atención de hoy; tu número %s ya no será llamado.",
			"The branch has closed for today; your number %s will not be called.",
		},
		"telegram.status": {
			"Número %s: %s. Personas antes que tú: %s. Espera estimada: %s.",
			"Number %s: %s. People ahead of you: %s. Estimated wait: %s.",
		},
		"telegram.status_done": {
			"Número %s: %s.",
			"Number %s: %s.",
		},
		"telegram.wait_range":    {"entre %s y %s min", "between %s and %s min"},
		"telegram.wait_now":      {"menos de 1 min", "under 1 min"},
		"telegram.linked":        {"Listo: te avisaremos por aquí sobre el número %s. Comandos: /estado, /cancelar, /recordar, /stop, /ayuda.", "Done: we will notify you here about number %s. Commands: /estado, /cancelar, /recordar, /stop, /ayuda."},
		"telegram.link_pending":  {"Recibimos tu código. Te confirmaremos el número en cuanto la sucursal lo informe.", "We got your code. We will confirm your number as soon as the branch reports it."},
		"telegram.token_invalid": {"El código no es válido. Escanea el código QR de tu número.", "The code is not valid. Please scan the QR code on your ticket."},
		"telegram.no_ticket":     {"No tienes un número vinculado. Escanea el código QR de tu número.", "You have no linked number. Please scan the QR code on your ticket."},
		"telegram.cancel_sent":   {"Pedimos anular tu número %s. Te avisaremos cuando la sucursal lo confirme.", "We asked to cancel your number %s. We will let you know when the branch confirms it."},
		"telegram.cancel_closed": {"Tu número %s ya no está en espera; no se puede anular.", "Your number %s is no longer waiting; it cannot be cancelled."},
		"telegram.remember_ok":   {"Listo: tus próximos números en cualquier sucursal te avisarán aquí sin escanear. Usa /stop para dejar de recibir avisos.", "Done: your next numbers at any branch will notify you here without scanning. Use /stop to stop notifications."},
		"telegram.remember_none": {"Tu número no tiene RUT asociado; no hay nada que recordar.", "Your number has no RUT attached; there is nothing to remember."},
		"telegram.stopped":       {"Listo: no recibirás más avisos en este chat.", "Done: you will receive no more notifications in this chat."},
		"telegram.help": {
			"Te aviso cuando se acerque tu turno. Escanea el QR de tu número para vincularlo.\n/estado: cómo va tu número\n/cancelar: anular tu número\n/recordar: avisarme de mis próximos números sin escanear\n/agendar: agendar una hora\n/mis_horas: ver, cambiar o anular tus horas\n/fila: tomar número desde aquí\n/stop: dejar de recibir avisos\n/ayuda: esta ayuda",
			"I let you know when your turn is near. Scan the QR code of your ticket to link it.\n/estado: your number's status\n/cancelar: cancel your number\n/recordar: notify me of my next numbers without scanning\n/agendar: book a visit\n/mis_horas: see, move or cancel your bookings\n/fila: take a number from here\n/stop: stop notifications\n/ayuda: this help",
		},
		"telegram.unknown_command": {"No entendí. Escribe /ayuda para ver los comandos.", "I did not understand. Type /ayuda to see the commands."},
		"telegram.alert.digest":    {"Alertas de sucursales (%s):\n%s", "Branch alerts (%s):\n%s"},
		"telegram.alert.more":      {"… y %s alertas más en el panel.", "… and %s more alerts on the dashboard."},
		"telegram.alert.queue_long": {
			"%s: %s personas esperando", "%s: %s people waiting",
		},
		"telegram.alert.wait_over":       {"%s: espera sobre la meta (%s)", "%s: wait over target (%s)"},
		"telegram.alert.agent_offline":   {"%s: agente sin conexión (%s)", "%s: agent offline (%s)"},
		"telegram.alert.backlog_growing": {"%s: eventos pendientes en aumento (%s)", "%s: backlog growing (%s)"},
		"telegram.alert.seq_conflict":    {"%s: la caja reinició su numeración; sus eventos esperan (%s)", "%s: the box restarted its sequence; its events wait (%s)"},
		"telegram.alert.other":           {"%s: alerta %s", "%s: alert %s"},
		"telegram.config_invalid":        {"Configuración de Telegram inválida: %s", "Invalid Telegram configuration: %s"},
	})
}
