package i18n

// Messages of the branch LAN's security controls (sign-in throttle, PIN
// policy, request checks, session timeouts).
func init() {
	Register(map[string]Message{
		"request.host_invalid":                 {"Esta caja no responde al nombre %q.", "This box does not answer to the name %q."},
		"request.cross_origin":                 {"Solicitud rechazada: viene de otro sitio.", "Request refused: it comes from another site."},
		"request.unsupported_media_type":       {"El cuerpo de la solicitud debe ser JSON (Content-Type: application/json).", "The request body must be JSON (Content-Type: application/json)."},
		"executive.pin_policy":                 {"El PIN debe tener de %d a 12 dígitos y no puede ser un dígito repetido ni una serie (111111, 123456).", "The PIN must have %d to 12 digits and cannot be one digit repeated or a run (111111, 123456)."},
		"ui.terminal.executive_id_placeholder": {"Su código, p. ej. E01", "Your ID, e.g. E01"},
		"ui.terminal.pin_weak":                 {"Su PIN es corto (de una versión anterior): pida cambiarlo por uno de 6 dígitos o más.", "Your PIN is short (from an older version): ask to change it to one of 6 digits or more."},
		"hq.config.pin_branch_only":            {"se define en la sucursal", "set at the branch"},
		"hq.alert.pin_guessing":                {"%s esperas por PIN incorrectos en la última hora: alguien prueba PIN en la sucursal (ver Auditoría)", "%s sign-in waits for wrong PINs in the last hour: someone is trying PINs at the branch (see Audit)"},
		"telegram.alert.pin_guessing":          {"%s: %s esperas por PIN incorrectos en la última hora", "%s: %s sign-in waits for wrong PINs in the last hour"},
		"ticket.not_your_service":              {"El número %s es del servicio %s, que usted no atiende.", "Ticket %s is in service %s, which you do not serve."},
	})
}
