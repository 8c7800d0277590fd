package i18n

// Messages of the customer's voice (the survey after service, on Telegram
// and on the counter tablet; HQ's feedback report) and of the SMS channel
// (the mobile number at the kiosk, the SMS texts). SMS texts keep to GSM-7
// (no á, í, ó, ú) and to one SMS (160 characters) with the longest arguments:
// a test renders each.
func init() {
	Register(map[string]Message{
		"phone.empty":      {"Ingrese su número de celular.", "Enter your mobile number."},
		"phone.format":     {"El número solo puede tener dígitos. Ejemplo: +56 9 1234 5678.", "The number may only have digits. Example: +56 9 1234 5678."},
		"phone.not_mobile": {"Ingrese un celular chileno: +56 9 y 8 dígitos.", "Enter a Chilean mobile number: +56 9 and 8 digits."},
		"phone.no_consent": {"Para recibir SMS debe aceptar el aviso.", "To receive SMS you must accept the notice."},

		"ui.kiosk.phone_title":   {"¿Le avisamos por SMS? (opcional)", "Shall we text you? (optional)"},
		"ui.kiosk.phone_label":   {"Celular", "Mobile"},
		"ui.kiosk.phone_hint":    {"Ejemplo: +56 9 1234 5678", "Example: +56 9 1234 5678"},
		"ui.kiosk.phone_consent": {"Acepto que el banco use este número solo para avisarme de este turno por SMS. Se borra según la política de privacidad.", "I agree that the bank uses this number only to text me about this turn. It is erased under the privacy policy."},
		"ui.kiosk.phone_skip":    {"Continuar sin SMS", "Continue without SMS"},
		"ui.kiosk.phone_invalid": {"Número no válido: +56 9 y 8 dígitos", "Invalid number: +56 9 and 8 digits"},

		// SMS texts (GSM-7, ≤ 160 characters rendered).
		"sms.confirm": {
			"Ticketero: su numero es %s. Personas antes: %s. Espera estimada: %s. Le avisaremos por SMS cuando falte poco.",
			"Ticketero: your number is %s. People ahead: %s. Estimated wait: %s. We will text you when your turn is near.",
		},
		"sms.prenotice": {
			"Ticketero: su numero %s se acerca, quedan %s personas antes. Vuelva a la sucursal.",
			"Ticketero: your number %s is coming up, %s people ahead. Please come back to the branch.",
		},
		"sms.called": {
			"Ticketero: es su turno. Numero %s, modulo %s, le atiende %s.",
			"Ticketero: it is your turn. Number %s, counter %s, %s will serve you.",
		},
		"sms.called_anon": {
			"Ticketero: es su turno. Numero %s, modulo %s.",
			"Ticketero: it is your turn. Number %s, counter %s.",
		},

		// The survey after service.
		"feedback.ask_csat": {
			"Gracias por su visita (número %s). ¿Qué tan satisfecho quedó con la atención? 1 = nada, 5 = muy satisfecho.",
			"Thank you for your visit (number %s). How satisfied are you with the service? 1 = not at all, 5 = very satisfied.",
		},
		"feedback.ask_nps": {
			"¿Qué tan probable es que recomiende el banco a un amigo? 0 = nada probable, 10 = muy probable.",
			"How likely are you to recommend the bank to a friend? 0 = not at all likely, 10 = extremely likely.",
		},
		"feedback.ask_comment": {
			"¡Gracias! Si quiere, escríbanos un comentario en un mensaje (opcional). No incluya su RUT ni su teléfono.",
			"Thank you! If you wish, write us a comment in one message (optional). Do not include your RUT or phone.",
		},
		"feedback.thanks":        {"Gracias, recibimos su comentario.", "Thank you, we received your comment."},
		"feedback.expired":       {"Esta encuesta ya expiró. Gracias de todos modos.", "This survey has expired. Thank you anyway."},
		"feedback.no_visit":      {"No hay una atención terminada en este módulo para calificar.", "There is no finished visit at this counter to rate."},
		"feedback.already":       {"Esta atención ya fue calificada. Gracias.", "This visit was already rated. Thank you."},
		"feedback.no_scores":     {"Aún no hay notas de clientes para usted.", "There are no customer scores for you yet."},
		"ui.terminal.my_scores":  {"Sus notas: CSAT {csat} · NPS {nps} ({n} respuestas, {days} días)", "Your scores: CSAT {csat} · NPS {nps} ({n} answers, {days} days)"},
		"feedback.recorded":      {"Respuesta registrada", "Answer recorded"},
		"feedback.invalid":       {"Respuesta no válida.", "Invalid answer."},
		"feedback.score.invalid": {"La nota debe ser de 1 a 5 y la recomendación de 0 a 10.", "The score must be 1 to 5 and the recommendation 0 to 10."},

		// Counter tablet.
		"ui.tablet.title":     {"Su opinión", "Your opinion"},
		"ui.tablet.csat":      {"¿Qué tan satisfecho quedó con la atención?", "How satisfied are you with the service?"},
		"ui.tablet.csat_low":  {"Nada satisfecho", "Not at all satisfied"},
		"ui.tablet.csat_high": {"Muy satisfecho", "Very satisfied"},
		"ui.tablet.nps":       {"¿Recomendaría el banco a un amigo?", "Would you recommend the bank to a friend?"},
		"ui.tablet.nps_low":   {"Nada probable", "Not at all likely"},
		"ui.tablet.nps_high":  {"Muy probable", "Extremely likely"},
		"ui.tablet.thanks":    {"¡Gracias por su opinión!", "Thank you for your opinion!"},
		"ui.tablet.waiting":   {"Esperando la próxima atención", "Waiting for the next visit"},
		"ui.tablet.no_visit":  {"No hay una atención terminada en este módulo para calificar.", "There is no finished visit at this counter to rate."},

		// HQ report.
		"hq.feedback.title":                   {"Opinión de clientes", "Customer feedback"},
		"hq.feedback.csat":                    {"CSAT", "CSAT"},
		"hq.feedback.nps":                     {"NPS", "NPS"},
		"hq.feedback.answers":                 {"Respuestas", "Answers"},
		"hq.feedback.by":                      {"Por", "By"},
		"hq.feedback.by.branch":               {"Sucursal", "Branch"},
		"hq.feedback.by.region":               {"Región", "Region"},
		"hq.feedback.by.service":              {"Servicio", "Service"},
		"hq.feedback.by.executive":            {"Ejecutivo", "Executive"},
		"hq.feedback.by.day":                  {"Día", "Day"},
		"hq.feedback.wait_bands":              {"Satisfacción por tramo de espera", "Satisfaction by wait band"},
		"hq.feedback.wait_band":               {"Espera", "Wait"},
		"hq.feedback.avg_csat":                {"Nota media (1–5)", "Average score (1–5)"},
		"hq.feedback.comments":                {"Comentarios (datos personales ocultos; su lectura queda auditada)", "Comments (personal data masked; reading them is audited)"},
		"hq.feedback.show_comments":           {"Ver comentarios", "Show comments"},
		"hq.feedback.total":                   {"Total", "Total"},
		"hq.audit.act.feedback.comments_read": {"Leyó comentarios de clientes", "Read customer comments"},
		"hq.feedback.none":                    {"Sin respuestas en el período.", "No answers in the period."},
		"hq.feedback.help":                    {"CSAT: % de notas 4 y 5. NPS: % que recomienda (9–10) menos % que no (0–6).", "CSAT: % of scores 4 and 5. NPS: % promoters (9–10) minus % detractors (0–6)."},
		"hq.alert.feedback_low":               {"notas bajas de clientes en la última hora: %s", "low customer scores in the last hour: %s"},
		"telegram.alert.feedback_low":         {"%s: notas bajas de clientes en la última hora: %s", "%s: low customer scores in the last hour: %s"},
	})
}
