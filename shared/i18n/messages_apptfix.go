package i18n

// Messages of the rules in a publication's review (cloud.DiffConfig).
func init() {
	Register(map[string]Message{
		"hq.config.diff.rules":              {"Reglas", "Rules"},
		"hq.config.diff.rules.appointments": {"citas: llegada desde %d min antes, tolerancia %d min, hasta %d seguidas · fila remota: espera %d min, retrocede %d lugares", "appointments: check-in from %d min before, grace %d min, up to %d in a row · remote queue: hold %d min, slide back %d places"},
		"hq.config.diff.rules.remote_open":  {"fila remota abierta", "remote queue open"},
		"hq.config.diff.rules.remote_cap":   {"fila remota abierta, hasta %d sin llegar", "remote queue open, up to %d not yet here"},
	})
}
