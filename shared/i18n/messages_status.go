package i18n

// Names of ticket states and actions, as people read them.
func init() {
	Register(map[string]Message{
		"status.waiting":        {"en espera", "waiting"},
		"status.called":         {"llamado", "called"},
		"status.serving":        {"en atención", "being served"},
		"status.done":           {"atendido", "done"},
		"status.no_show":        {"no se presentó", "no-show"},
		"status.cancelled":      {"anulado", "cancelled"},
		"status.abandoned":      {"abandonado", "abandoned"},
		"action.call":           {"llamar", "call"},
		"action.recall":         {"volver a llamar", "recall"},
		"action.start":          {"iniciar la atención de", "start serving"},
		"action.complete":       {"finalizar", "complete"},
		"action.no_show":        {"marcar como no presentado", "mark as no-show"},
		"action.requeue":        {"devolver a la fila", "requeue"},
		"action.transfer":       {"derivar", "transfer"},
		"action.cancel":         {"anular", "cancel"},
		"action.abandon":        {"cerrar por fin de jornada", "close at day end"},
		"priority.normal":       {"normal", "normal"},
		"priority.preferential": {"preferencial", "preferential"},
		"priority.premium":      {"premium", "premium"},
	})
}
