package i18n

// Messages of the branch LAN's security controls (sign-in throttle, PIN
// policy, request checks, session timeouts).
func init() {
	Register(map[string]Message{
		"request.host_invalid":           {"Esta caja no responde al nombre %q.", "This box does not answer to the name %q."},
		"request.cross_origin":           {"Solicitud rechazada: viene de otro sitio.", "Request refused: it comes from another site."},
		"request.unsupported_media_type": {"El cuerpo de la solicitud debe ser JSON (Content-Type: application/json).", "The request body must be JSON (Content-Type: application/json)."},
		"ticket.not_your_service":        {"El número %s es del servicio %s, que usted no atiende.", "Ticket %s is in service %s, which you do not serve."},
	})
}
