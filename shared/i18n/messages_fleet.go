package i18n

// Remote agent updates: HQ's page of each box's agent version and update state.
func init() {
	Register(map[string]Message{
		"hq.nav.agents":               {"Agentes", "Agents"},
		"hq.agents.title":             {"Versiones de agente en sucursales", "Agent versions at branches"},
		"hq.agents.help":              {"Cada caja instala la versión ofrecida dentro de su ventana horaria, verifica su firma, revisa su salud y vuelve sola a la anterior si falla. Las publicaciones y despliegues se hacen con «ticketero-cloud release».", "Each box installs the offered version within its window, verifies its signature, checks its health and rolls back by itself if it fails. Releases and rollouts are made with “ticketero-cloud release”."},
		"hq.agents.versions":          {"Versiones en uso", "Versions running"},
		"hq.agents.boxes":             {"%d cajas", "%d boxes"},
		"hq.agents.branch":            {"Sucursal", "Branch"},
		"hq.agents.region":            {"Región", "Region"},
		"hq.agents.online":            {"En línea", "Online"},
		"hq.agents.running":           {"Versión", "Version"},
		"hq.agents.offered":           {"Ofrecida", "Offered"},
		"hq.agents.last":              {"Último paso", "Last step"},
		"hq.agents.reason":            {"Motivo", "Reason"},
		"hq.agents.when":              {"Cuándo", "When"},
		"hq.agents.none":              {"Aún no hay sucursales.", "No branches yet."},
		"hq.agents.yes":               {"sí", "yes"},
		"hq.agents.no":                {"no", "no"},
		"hq.agents.state.trial":       {"probando %s", "trying %s"},
		"hq.agents.state.updated":     {"actualizada a %s", "updated to %s"},
		"hq.agents.state.refused":     {"rechazó %s", "refused %s"},
		"hq.agents.state.rolled_back": {"volvió atrás desde %s", "rolled back from %s"},
	})
}
