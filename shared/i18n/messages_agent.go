package i18n

// Messages of the branch agent's LAN API and admin command. Keys are stable:
// they cross the wire as problem+json "code" values.
func init() {
	Register(map[string]Message{
		"request.malformed":        {"La solicitud no es un JSON válido o tiene campos de un tipo incorrecto.", "The request is not valid JSON or has fields of the wrong type."},
		"request.too_large":        {"La solicitud es demasiado grande (máximo %d bytes).", "The request is too large (at most %d bytes)."},
		"request.invalid_param":    {"El parámetro %s no es válido: %q.", "Parameter %s is not valid: %q."},
		"route.not_found":          {"La dirección solicitada no existe.", "The requested address does not exist."},
		"method.not_allowed":       {"Esta operación no está permitida en esta dirección.", "This method is not allowed at this address."},
		"idempotency.mismatch":     {"La clave de idempotencia ya se usó con otra solicitud.", "The idempotency key was already used with a different request."},
		"idempotency.key_invalid":  {"La clave de idempotencia no es válida (máximo 128 caracteres visibles).", "The idempotency key is not valid (at most 128 visible characters)."},
		"ticket.recall_limit":      {"El número %s ya se volvió a llamar el máximo de %d veces.", "Ticket %s was already recalled the maximum of %d times."},
		"ticket.not_yours":         {"El número %s está siendo atendido por otro ejecutivo.", "Ticket %s is being handled by another executive."},
		"ticket.outcome_invalid":   {"El resultado %q no es válido (minúsculas, dígitos, guion, punto o guion bajo; hasta 64).", "Outcome %q is not valid (lower-case letters, digits, hyphen, dot or underscore; up to 64)."},
		"transfer.same_service":    {"El número ya está en el servicio %s.", "The ticket is already in service %s."},
		"counter.unknown":          {"El módulo %d no existe en esta sucursal.", "Counter %d does not exist at this branch."},
		"session.required":         {"Debe iniciar sesión en un módulo.", "You must sign in at a counter."},
		"session.bad_pin":          {"Ejecutivo o PIN incorrecto.", "Wrong executive or PIN."},
		"session.locked":           {"Demasiados PIN incorrectos desde este equipo: espere %d segundos antes de intentar de nuevo.", "Too many wrong PINs from this device: wait %d seconds before trying again."},
		"session.counter_taken":    {"El módulo %d está ocupado por otro ejecutivo.", "Counter %d is taken by another executive."},
		"session.executive_busy":   {"El ejecutivo ya tiene sesión en el módulo %d.", "The executive is already signed in at counter %d."},
		"session.wrong_counter":    {"Su sesión no es del módulo %d.", "Your session is not at counter %d."},
		"session.paused":           {"Su sesión está en pausa: reanúdela para llamar.", "Your session is paused: resume it to call."},
		"session.busy":             {"Primero termine la atención del número %s.", "First finish with ticket %s."},
		"session.already_paused":   {"La sesión ya está en pausa.", "The session is already paused."},
		"session.not_paused":       {"La sesión no está en pausa.", "The session is not paused."},
		"session.reason_invalid":   {"El motivo de pausa debe tener hasta %d caracteres, sin caracteres de control.", "The pause reason must have at most %d characters, and no control characters."},
		"executive.exists":         {"El ejecutivo %q ya existe.", "Executive %q already exists."},
		"executive.not_found":      {"El ejecutivo %q no existe.", "Executive %q does not exist."},
		"executive.id_invalid":     {"El identificador de ejecutivo %q no es válido (letras, dígitos y guiones, hasta 32).", "Executive ID %q is not valid (letters, digits and hyphens, up to 32)."},
		"executive.name_invalid":   {"El nombre del ejecutivo debe tener de 1 a 64 caracteres.", "The executive's name must have 1 to 64 characters."},
		"executive.pin_invalid":    {"El PIN debe tener de 4 a 8 dígitos.", "The PIN must have 4 to 8 digits."},
		"executive.services_empty": {"Indique al menos un servicio que atiende el ejecutivo.", "Give at least one service the executive serves."},
		"outbox.ack_ahead":         {"Confirmación %d posterior al último evento escrito %d.", "Ack %d is beyond the last event written %d."},
	})
}
