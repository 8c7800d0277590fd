package i18n

// Opening hours: the kiosk's refusals outside hours and HQ's holiday page.
func init() {
	Register(map[string]Message{
		"branch.closed": {
			"La sucursal está cerrada. Abre %s.",
			"The branch is closed. It opens %s.",
		},
		"branch.holiday": {
			"Hoy es feriado (%s) y la sucursal no atiende. Abre %s.",
			"Today is a public holiday (%s) and the branch is closed. It opens %s.",
		},
		"service.closed_for_today": {
			"Ya no se entregan números de %s por hoy. Vuelva %s.",
			"No more %s tickets are issued today. Please come back %s.",
		},
		"hours.holiday":        {"feriado", "holiday"},
		"hours.opens_unknown":  {"cuando la casa matriz publique su horario", "once head office publishes its hours"},
		"hours.opens_today":    {"hoy a las %s", "today at %s"},
		"hours.opens_tomorrow": {"mañana a las %s", "tomorrow at %s"},
		"hours.opens_on":       {"el %s %d de %s a las %s", "on %s %d %s at %s"},
		"hours.weekday.mon":    {"lunes", "Monday"},
		"hours.weekday.tue":    {"martes", "Tuesday"},
		"hours.weekday.wed":    {"miércoles", "Wednesday"},
		"hours.weekday.thu":    {"jueves", "Thursday"},
		"hours.weekday.fri":    {"viernes", "Friday"},
		"hours.weekday.sat":    {"sábado", "Saturday"},
		"hours.weekday.sun":    {"domingo", "Sunday"},
		"hours.month.1":        {"enero", "January"},
		"hours.month.2":        {"febrero", "February"},
		"hours.month.3":        {"marzo", "March"},
		"hours.month.4":        {"abril", "April"},
		"hours.month.5":        {"mayo", "May"},
		"hours.month.6":        {"junio", "June"},
		"hours.month.7":        {"julio", "July"},
		"hours.month.8":        {"agosto", "August"},
		"hours.month.9":        {"septiembre", "September"},
		"hours.month.10":       {"octubre", "October"},
		"hours.month.11":       {"noviembre", "November"},
		"hours.month.12":       {"diciembre", "December"},
	})
}

// HQ's holiday page and a branch's schedule page.
func init() {
	Register(map[string]Message{
		"hq.holiday.invalid":   {"Feriado no válido: %q (fecha AAAA-MM-DD y nombre de hasta 80 caracteres).", "Invalid holiday: %q (date YYYY-MM-DD and a name of up to 80 characters)."},
		"hq.holiday.not_found": {"No hay feriado el %s.", "There is no holiday on %s."},
		"hq.hours.invalid":     {"Horario no válido: %s.", "Invalid schedule: %s."},
		"hq.hours.grace_range": {"Los minutos de gracia deben estar entre 0 y %d.", "Grace minutes must be between 0 and %d."},
		"hq.hours.cutoff": {"El último número de %s se indica en minutos antes del cierre (30) o como hora (13:30); %q no sirve.",
			"The last %s ticket is given as minutes before closing (30) or a time (13:30); %q will not do."},
		"hq.holidays.title": {"Feriados %d", "Public holidays %d"},
		"hq.holidays.help": {"Los feriados valen para todas las sucursales: ese día el kiosco no entrega números. Llegan a cada sucursal con su próxima versión publicada.",
			"Holidays apply to every branch: the kiosk issues no tickets that day. They reach each branch with its next published version."},
		"hq.holidays.date":  {"Fecha", "Date"},
		"hq.holidays.none":  {"No hay feriados registrados para este año.", "No holidays recorded for this year."},
		"hq.holidays.add":   {"Agregar feriado", "Add a holiday"},
		"hq.holidays.saved": {"Feriados guardados. Publique cada sucursal para enviarlos.", "Holidays saved. Publish each branch to send them."},
		"hq.holidays.link":  {"Feriados", "Public holidays"},
		"hq.hours.title":    {"Horario de atención", "Opening hours"},
		"hq.hours.published_too": {"La versión lleva también el horario por día, los feriados y el último número de cada servicio (no aparecen en la tabla de cambios):",
			"The version also carries the hours per day, the holidays and each service's last ticket (not in the table of changes):"},
		"hq.hours.edit":        {"Horario por día, cierre y último número por servicio", "Hours per day, closing and last ticket per service"},
		"hq.hours.closed_word": {"cerrado", "closed"},
		"hq.hours.help": {"Vacío: el horario general (%s). Escriba «cerrado» para un día sin atención. Fuera de horario el kiosco no entrega números; los clientes en espera se atienden hasta el cierre del día (hora de cierre + gracia).",
			"Empty: the general hours (%s). Type «closed» for a day without service. Outside hours the kiosk issues no tickets; customers already waiting are served until the day closes (closing time + grace)."},
		"hq.hours.grace":       {"Minutos de gracia tras el cierre", "Grace minutes after closing"},
		"hq.hours.last_ticket": {"Último número de %s (minutos antes del cierre o HH:MM)", "Last %s ticket (minutes before closing or HH:MM)"},
		"hq.hours.holidays":    {"Feriados registrados este año y el próximo: %d.", "Holidays recorded this year and next: %d."},
		"hq.hours.day.mon":     {"Lunes", "Monday"},
		"hq.hours.day.tue":     {"Martes", "Tuesday"},
		"hq.hours.day.wed":     {"Miércoles", "Wednesday"},
		"hq.hours.day.thu":     {"Jueves", "Thursday"},
		"hq.hours.day.fri":     {"Viernes", "Friday"},
		"hq.hours.day.sat":     {"Sábado", "Saturday"},
		"hq.hours.day.sun":     {"Domingo", "Sunday"},
	})
}

// The kiosk's closed state (UI strings: {placeholders}, no fmt verbs).
func init() {
	Register(map[string]Message{
		"ui.kiosk.closed":         {"La sucursal no está entregando números en este momento.", "The branch is not issuing tickets right now."},
		"ui.kiosk.service_closed": {"Cerrado por hoy", "Closed for today"},
		"ui.kiosk.closed_short":   {"Cerrado", "Closed"},
		"ui.hours_closed_today":   {"Hoy sin atención", "Closed today"},
		"ui.closed_now":           {"cerrada ahora", "closed now"},
	})
}
