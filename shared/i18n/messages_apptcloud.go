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

		// Notices to the customer's chat (jobs written by the ingest; the
		// first argument is the slot's start, "DD-MM HH:MM", branch time).
		"appointment.notice.declined":         {"Tu hora del %s no pudo confirmarse en la sucursal: %s. Puedes agendar otra.", "Your appointment of %s could not be confirmed at the branch: %s. You can book another one."},
		"appointment.notice.cancelled":        {"La sucursal anuló tu hora del %s (%s). Disculpa las molestias; puedes agendar otra.", "The branch cancelled your appointment of %s (%s). Sorry for the trouble; you can book another one."},
		"appointment.notice.join_refused":     {"No pudimos darte un número a distancia (pedido a las %s): %s.", "We could not give you a remote number (asked at %s): %s."},
		"appointment.decline.slot_passed":     {"llegó a la sucursal cuando ya había pasado su horario", "it reached the branch after its time had passed"},
		"appointment.decline.service_unknown": {"la sucursal no atiende ese servicio", "the branch does not offer that service"},
		"appointment.decline.day_closed":      {"la sucursal cerró ese día", "the branch is closed that day"},
		"appointment.decline.invalid":         {"la reserva no es válida", "the booking is not valid"},
		"appointment.cancel.branch":           {"por decisión de la sucursal", "by the branch"},
		"appointment.refuse.closed":           {"la sucursal o el servicio está cerrado ahora", "the branch or the service is closed now"},
		"appointment.refuse.not_open":         {"la fila a distancia no está abierta para ese servicio", "remote queueing is not open for that service"},
		"appointment.refuse.capacity":         {"ya hay muchas personas en la fila a distancia; intenta en unos minutos", "too many people are in the remote queue; try again in a few minutes"},
		"appointment.refuse.unknown":          {"la sucursal no atiende ese servicio", "the branch does not offer that service"},
		"appointment.refuse.invalid":          {"el pedido no es válido", "the request is not valid"},
		"appointment.refuse.unreachable":      {"la sucursal no respondió a tiempo", "the branch did not answer in time"},
	})
}
