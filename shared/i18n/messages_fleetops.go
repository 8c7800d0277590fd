package i18n

// Fleet operations: a stopped rollout's withdrawn offer on HQ's agents page.
func init() {
	Register(map[string]Message{
		"hq.agents.stopped":      {"detenido (%s)", "stopped (%s)"},
		"hq.agents.stopped.help": {"Despliegue detenido: la oferta fue retirada y la caja no la empezará; si ya la estaba instalando, termina o vuelve atrás como siempre.", "Rollout stopped: the offer was withdrawn and the box will not start it; if it was already installing it, it finishes or rolls back as usual."},
	})
}
