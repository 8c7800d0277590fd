package i18n

// Messages of the executive's counter actions: parked visits, out-of-order
// calls, walk-ins, targeted transfers, outcome codes, pause reasons, the
// customer in front of him, and HQ's figures about them.
func init() {
	Register(map[string]Message{
		// States and actions.
		"status.parked": {"en espera de documentos", "parked"},
		"action.park":   {"dejar en espera", "park"},
		"action.unpark": {"retomar", "call back"},

		// Pause reasons (codes of queue.PauseReasons).
		"pause.lunch":      {"Colación", "Lunch"},
		"pause.break":      {"Descanso", "Break"},
		"pause.meeting":    {"Reunión", "Meeting"},
		"pause.backoffice": {"Trabajo administrativo", "Back-office work"},
		"pause.training":   {"Capacitación", "Training"},
		"pause.other":      {"Otro", "Other"},

		// Errors.
		"call.reason_required":        {"Indique el motivo para llamar a este número fuera de orden (hasta %d caracteres).", "Give the reason for calling this number out of order (up to %d characters)."},
		"ticket.targeted_elsewhere":   {"%s fue derivado a otro módulo o ejecutivo: solo ese lo puede llamar.", "%s was transferred to another counter or executive: only they may call it."},
		"ticket.outcome_unknown":      {"El resultado %q no está en la lista que definió la casa matriz.", "Outcome %q is not in HQ's list."},
		"outcome.invalid":             {"El resultado %q no es válido: código de 1 a 64 caracteres a-z, 0-9, _ . - y un nombre.", "Outcome %q is invalid: a code of 1 to 64 characters a-z, 0-9, _ . - and a name."},
		"transfer.one_target":         {"Derive a un módulo o a un ejecutivo, no a ambos.", "Transfer to a counter or to an executive, not both."},
		"transfer.same_target":        {"No puede derivarse un número a sí mismo.", "You cannot transfer a ticket to yourself."},
		"transfer.counter_empty":      {"Nadie atiende en el módulo %d: derive a un módulo con ejecutivo.", "Nobody is at counter %d: transfer to a staffed counter."},
		"transfer.executive_unknown":  {"El ejecutivo %q no existe en esta sucursal.", "Executive %q does not exist at this branch."},
		"transfer.executive_offline":  {"%s no tiene sesión iniciada: derive a un ejecutivo presente.", "%s is not signed in: transfer to an executive who is."},
		"session.has_parked":          {"Tiene a %s en espera de documentos: retómelo o anúlelo antes de cerrar sesión.", "%s is parked with you: call it back or cancel it before signing out."},
		"session.reason_code_invalid": {"El motivo de pausa %q no está en la lista.", "Pause reason %q is not in the list."},
		"customer.none":               {"No tiene a nadie en atención.", "Nobody is at your counter."},

		// Terminal.
		"ui.terminal.park":                  {"En espera de documentos", "Park"},
		"ui.terminal.parked_list":           {"En espera de documentos", "Parked visits"},
		"ui.terminal.unpark":                {"Retomar {number}", "Call back {number}"},
		"ui.terminal.call_this":             {"Llamar", "Call"},
		"ui.terminal.call_reason":           {"Motivo para llamar fuera de orden", "Reason for calling out of order"},
		"ui.terminal.call_specific":         {"Llamar {number} fuera de orden", "Call {number} out of order"},
		"ui.terminal.walk_in":               {"Atender sin número", "Serve without a ticket"},
		"ui.terminal.walk_in_service":       {"Servicio", "Service"},
		"ui.terminal.walk_in_rut":           {"RUT (opcional)", "RUT (optional)"},
		"ui.terminal.walk_in_name":          {"Nombre (opcional)", "Name (optional)"},
		"ui.terminal.priority":              {"Atención", "Attention"},
		"ui.terminal.priority_normal":       {"General", "General"},
		"ui.terminal.priority_pref":         {"Preferencial", "Preferential"},
		"ui.terminal.priority_premium":      {"Premium", "Premium"},
		"ui.terminal.transfer_kind":         {"Derivar a", "Transfer to"},
		"ui.terminal.to_service":            {"Otro servicio", "Another service"},
		"ui.terminal.to_counter":            {"Un módulo", "A counter"},
		"ui.terminal.to_executive":          {"Un ejecutivo", "An executive"},
		"ui.terminal.order":                 {"Orden en la fila", "Place in line"},
		"ui.terminal.outcomes":              {"Resultados de la atención", "Outcomes of the visit"},
		"ui.terminal.undo":                  {"Deshacer", "Undo"},
		"ui.terminal.pending_transfer":      {"{number} se derivará a {to} en {s} s", "{number} will be transferred to {to} in {s} s"},
		"ui.terminal.pending_no_show":       {"{number} quedará como «No se presentó» en {s} s", "{number} will be marked as no-show in {s} s"},
		"ui.terminal.pending_cancel":        {"{number} se anulará en {s} s", "{number} will be cancelled in {s} s"},
		"ui.terminal.done_transfer":         {"{number} derivado a {to}", "{number} transferred to {to}"},
		"ui.terminal.done_no_show":          {"{number} marcado como «No se presentó»", "{number} marked as no-show"},
		"ui.terminal.done_cancel":           {"{number} anulado", "{number} cancelled"},
		"ui.terminal.undone":                {"Acción deshecha: {number} sigue igual", "Undone: {number} is unchanged"},
		"ui.terminal.counter_n":             {"Módulo {n}", "Counter {n}"},
		"ui.terminal.customer":              {"Cliente", "Customer"},
		"ui.terminal.customer_anonymous":    {"Sin RUT", "No RUT given"},
		"ui.terminal.history":               {"Historial de hoy", "Today's history"},
		"ui.terminal.cancel_ticket":         {"Anular", "Cancel ticket"},
		"ui.terminal.waiting_list":          {"Esperando", "Waiting"},
		"ui.terminal.ev.ticket.issued":      {"Emitido", "Issued"},
		"ui.terminal.ev.ticket.called":      {"Llamado", "Called"},
		"ui.terminal.ev.ticket.recalled":    {"Vuelto a llamar", "Recalled"},
		"ui.terminal.ev.ticket.started":     {"Atención iniciada", "Service started"},
		"ui.terminal.ev.ticket.parked":      {"En espera de documentos", "Parked"},
		"ui.terminal.ev.ticket.unparked":    {"Retomado", "Called back"},
		"ui.terminal.ev.ticket.requeued":    {"Devuelto a la fila", "Requeued"},
		"ui.terminal.ev.ticket.transferred": {"Derivado", "Transferred"},
		"ui.terminal.ev.ticket.near":        {"Aviso de cercanía", "Near notice"},

		// HQ reports.
		"hq.report.outcomes":       {"Resultados de la atención", "Visit outcomes"},
		"hq.report.outcome_code":   {"Resultado", "Outcome"},
		"hq.report.outcome_visits": {"Atenciones", "Visits"},
		"hq.report.exec_kpis":      {"Ejecutivos: tiempo en atención, ocioso y pausas", "Executives: serving, idle and paused time"},
		"hq.report.exec_day":       {"Día", "Day"},
		"hq.report.exec_serving":   {"En atención", "Serving"},
		"hq.report.exec_idle":      {"Ocioso", "Idle"},
		"hq.report.exec_paused":    {"En pausa", "Paused"},
		"hq.report.exec_pauses":    {"Pausas por motivo", "Pauses by reason"},
		"hq.report.exec_idle_help": {"Ocioso = con sesión iniciada, sin atender y sin pausa.", "Idle = signed in, not serving and not paused."},
		"hq.config.outcomes":       {"Resultados de la atención", "Visit outcomes"},
		"hq.config.outcomes_help":  {"Códigos que el ejecutivo marca al finalizar (se publican a todas las sucursales con su configuración).", "Codes the executive marks at the end of a visit (published to every branch with its configuration)."},
		"hq.config.outcome_code":   {"Código", "Code"},
		"hq.config.outcome_name":   {"Nombre", "Name"},
		"hq.config.outcome_add":    {"Agregar resultado", "Add outcome"},
		"hq.config.outcome_remove": {"Quitar", "Remove"},
	})
}

func init() {
	Register(map[string]Message{
		"hq.outcomes.too_many": {"Ya hay %d resultados de atención: quite uno antes de agregar otro.", "There are already %d visit outcomes: remove one before adding another."},
		"hq.outcome.not_found": {"El resultado %q no existe.", "Outcome %q does not exist."},
	})
}

func init() {
	Register(map[string]Message{
		// HQ's audit of a branch's out-of-order call (ticket.called with chosen).
		"hq.audit.act.ticket.called": {"Número llamado fuera de orden (sucursal)", "Ticket called out of order (branch)"},
	})
}

func init() {
	Register(map[string]Message{
		// HQ's branch view timeline.
		"hq.event.ticket.parked":   {"en espera de documentos", "parked"},
		"hq.event.ticket.unparked": {"retomado", "called back"},
	})
}
