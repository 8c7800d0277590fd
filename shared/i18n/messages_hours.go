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
