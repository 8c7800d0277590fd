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
	})
}
