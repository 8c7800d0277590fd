package i18n

// Messages of the customer's side of appointments and the virtual queue
// (docs/appointments.md): the public booking page, the bot's /agendar,
// /mis_horas and /fila, reminders and the remote ticket's notices.
func init() {
	Register(map[string]Message{
		// Remote ticket notices (event.NoticeCheckedIn, NoticeSlid, NoticeExpired).
		"telegram.checked_in": {
			"Registramos tu llegada con el número %s. Ya estás en la fila; te avisaremos cuando sea tu turno.",
			"We registered your arrival with number %s. You are in line now; we will let you know when it is your turn.",
		},
		"telegram.checked_in_place": {
			"Registramos tu llegada con el número %s. Personas antes que tú: %s. Espera estimada: %s.",
			"We registered your arrival with number %s. People ahead of you: %s. Estimated wait: %s.",
		},
		"telegram.slid": {
			"Llegó el turno del número %s, pero aún no registras tu llegada: lo movimos atrás (personas antes que tú: %s). Escanea el código QR de la entrada de la sucursal en los próximos %s min o perderás tu número.",
			"Number %s reached the front, but you have not checked in yet: we moved it back (people ahead of you: %s). Scan the QR code at the branch entrance within %s min or you will lose your number.",
		},
		"telegram.expired": {
			"Tu número %s expiró porque no registraste tu llegada a tiempo. Si aún lo necesitas, puedes tomar un número nuevo.",
			"Your number %s expired because you did not check in in time. If you still need it, you may take a new number.",
		},
	})
}
