package i18n

// Error messages of the application error codes (shared/queue.Error reasons).
// Keys are stable: they cross the wire as problem+json "code" values.
func init() {
	Register(map[string]Message{
		"internal":                  {"Ocurrió un error interno. Intente nuevamente.", "An internal error occurred. Please try again."},
		"unavailable":               {"El servicio no está disponible en este momento. Intente nuevamente.", "The service is unavailable right now. Please try again."},
		"rut.empty":                 {"Ingrese su RUT.", "Enter your RUT."},
		"rut.format":                {"El RUT no tiene un formato válido. Ejemplo: 12.345.678-5.", "The RUT is not in a valid format. Example: 12.345.678-5."},
		"rut.too_short":             {"El RUT es demasiado corto.", "The RUT is too short."},
		"rut.too_long":              {"El RUT es demasiado largo.", "The RUT is too long."},
		"rut.check_digit":           {"El dígito verificador del RUT no es correcto.", "The RUT check digit is not correct."},
		"branch.invalid":            {"El código de sucursal %q no es válido (use letras mayúsculas, dígitos y guiones, hasta 32).", "Branch code %q is not valid (use upper-case letters, digits and hyphens, up to 32)."},
		"service.invalid_code":      {"El código de servicio %q no es válido: debe ser una letra de la A a la Z.", "Service code %q is not valid: it must be one letter A to Z."},
		"service.invalid":           {"El servicio %q no es válido: %s.", "Service %q is not valid: %s."},
		"service.unknown":           {"El servicio %q no existe en esta sucursal.", "Service %q does not exist at this branch."},
		"priority.invalid":          {"La atención %q no es válida: use normal, preferencial o premium.", "Priority %q is not valid: use normal, preferential or premium."},
		"ticket.illegal_transition": {"No se puede %s un número en estado %s.", "Cannot %s a ticket that is %s."},
		"ticket.not_found":          {"El número %s no existe.", "Ticket %s does not exist."},
		"status.invalid":            {"El estado %q no es válido.", "Status %q is not valid."},
		"event.invalid":             {"Evento inválido: %s.", "Invalid event: %s."},
	})
}
