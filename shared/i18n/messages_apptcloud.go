package i18n

// Strings of the cloud's book (cloud/postgres/appt) and HQ's appointment
// pages (cloud/web): error reasons first, then UI labels.
func init() {
	Register(map[string]Message{
		// Error reasons.
		"appointment.day":     {"La fecha %q no es válida (AAAA-MM-DD).", "Date %q is not valid (YYYY-MM-DD)."},
		"appointment.note":    {"La nota no es válida (texto de hasta %d caracteres).", "The note is not valid (text of up to %d characters)."},
		"appointment.channel": {"El canal %q no es válido: use web o telegram.", "Channel %q is not valid: use web or telegram."},
		"appointment.reason":  {"Indique el motivo de la anulación (hasta %d caracteres).", "Give the reason for the cancellation (up to %d characters)."},
	})
}
