package i18n

// Messages of appointments and the virtual queue at the branch
// (docs/appointments.md): the kiosk's check-in, the terminal's and the TV's
// marks of booked and remote tickets.
func init() {
	Register(map[string]Message{
		// Errors (problem codes).
		"checkin.invalid":      {"Ingrese su RUT o el código de 6 dígitos de su reserva (uno de los dos).", "Enter your RUT or your booking's 6-digit code (one of them)."},
		"checkin.code_invalid": {"El código de la reserva tiene 6 dígitos.", "The booking code has 6 digits."},
		"checkin.not_found":    {"No encontramos una reserva ni un número para hoy con esos datos. Revise el código o tome un número.", "We found no booking or ticket for today with those details. Check the code or take a ticket."},
		"appointment.too_early": {"Su hora es a las %s: puede registrar su llegada desde las %s.",
			"Your appointment is at %s: you can check in from %s."},
		"appointment.missed": {"Su hora de las %s ya pasó. Tome un número y lo atenderemos por orden de llegada.",
			"Your %s appointment has passed. Take a ticket and you will be served in order of arrival."},
		"ticket.present":     {"El número %s ya registró su llegada.", "Ticket %s is already checked in."},
		"ticket.not_present": {"El cliente del número %s aún no llega a la sucursal.", "The customer of ticket %s has not arrived yet."},

		// Kiosk: "Tengo hora agendada".
		"ui.kiosk.checkin_start":      {"Tengo hora agendada", "I have an appointment"},
		"ui.kiosk.checkin_start_hint": {"o tomé número desde mi celular", "or took a number on my phone"},
		"ui.kiosk.checkin_title":      {"Registre su llegada", "Check in"},
		"ui.kiosk.checkin_by_rut":     {"Con mi RUT", "With my RUT"},
		"ui.kiosk.checkin_by_code":    {"Con mi código", "With my code"},
		"ui.kiosk.checkin_code_label": {"Código de 6 dígitos de su reserva", "Your booking's 6-digit code"},
		"ui.kiosk.checkin_code_hint":  {"Está en el mensaje de confirmación de su hora.", "It is in your booking's confirmation message."},
		"ui.kiosk.checkin_rut_hint":   {"El RUT con el que reservó.", "The RUT you booked with."},
		"ui.kiosk.checkin_submit":     {"Registrar llegada", "Check in"},
		"ui.kiosk.checkin_busy":       {"Buscando su reserva…", "Looking up your booking…"},
		"ui.kiosk.checkin_booked":     {"Hora agendada · {time}", "Appointment · {time}"},
		"ui.kiosk.checkin_late":       {"Llegó después de su hora: será atendido por orden de llegada.", "You arrived after your time: you will be served in order of arrival."},
		"ui.kiosk.checkin_remote":     {"Llegada registrada: su número ya está en la fila.", "Checked in: your number is in the queue."},
		"ui.kiosk.checkin_on_time":    {"Lo llamaremos a su hora o apenas se desocupe un ejecutivo.", "You will be called at your time or as soon as an executive is free."},

		// TV and terminal.
		"ui.appointment_mark":              {"Hora agendada", "Appointment"},
		"ui.terminal.not_here":             {"aún no llega", "not here yet"},
		"ui.terminal.appointment_at":       {"Hora agendada {time}", "Appointment at {time}"},
		"ui.terminal.appointment_note":     {"Nota de la reserva: {note}", "Booking note: {note}"},
		"ui.terminal.ev.ticket.checked_in": {"llegó (registró su llegada)", "arrived (checked in)"},
		"ui.terminal.ev.ticket.slid":       {"no estaba: retrocedió en la fila", "not here: moved back in the queue"},
	})
}
